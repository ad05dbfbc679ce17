// The child process of `RemoteFake`: a fake AWS endpoint with the options in
// argv[2]; prints its URL, then serves until killed.
import { FakeAws } from './fake-aws';

FakeAws.start(JSON.parse(process.argv[2] ?? '{}')).then(
  (fake) => process.stdout.write(`${fake.url}\n`),
  (e) => {
    process.stderr.write(`${e}\n`);
    process.exit(1);
  },
);
