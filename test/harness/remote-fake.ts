import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import type { FakeAwsOptions } from './fake-aws';

/**
 * The fake AWS endpoint in a child process of its own. A benchmark that
 * times the dispatcher runs the fake here: AWS's request handling is not on
 * the Lambda's CPU, and in one process the fake's parsing, expression
 * evaluation and responses queue behind the dispatcher's own work on one
 * event loop (and its garbage), which real round trips never do.
 */
export class RemoteFake {
  public static async start(options: FakeAwsOptions = {}): Promise<RemoteFake> {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'remote-fake-main.ts'), JSON.stringify(options)], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const line = /^(http:\/\/\S+)\n/.exec(out);
        if (line) resolve(line[1]);
      });
      child.once('exit', (code) => reject(new Error(`the fake AWS process exited (${code}) before listening`)));
    });
    return new RemoteFake(child, url);
  }

  private constructor(private readonly child: ChildProcess, public readonly url: string) {}

  /** A queue URL on this server (as `FakeAws.queueUrl`). */
  public queueUrl(name: string): string {
    return `${this.url}/111122223333/${name}`;
  }

  public close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
  }
}
