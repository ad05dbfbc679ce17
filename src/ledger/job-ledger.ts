import { Duration, aws_dynamodb as dynamodb, aws_iam as iam, RemovalPolicy, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../contract/ledger';
import { acknowledgeCompliance } from '../internal/nag';

/** A job ledger: one DynamoDB item per job (attempts, tasks, outcome). */
export interface IJobLedger extends IConstruct {
  /** The table. */
  readonly table: dynamodb.ITable;
  /** How long an item is kept after its last write (DynamoDB TTL). */
  readonly timeToLive: Duration;

  /** Lets `grantee` read jobs (`dynamodb:GetItem`, `dynamodb:BatchGetItem` on this table only). */
  grantReadJobs(grantee: iam.IGrantable): iam.Grant;

  /** Lets `grantee` read and record jobs (`dynamodb:GetItem`, `dynamodb:UpdateItem` on this table only): dispatchers and trackers. */
  grantRecordJobs(grantee: iam.IGrantable): iam.Grant;
}

/** Properties of a `JobLedger`. */
export interface JobLedgerProps {
  /**
   * How long an item is kept after its last write. It must outlive every
   * way a job can come back: a record in the dispatch queue (up to its
   * retention), then in a dead-letter or failed-jobs queue (14 days) — a
   * job whose item expired is a new job. At least 15 days.
   * @default Duration.days(30)
   */
  readonly timeToLive?: Duration;

  /**
   * What happens to the table when it leaves the stack. The ledger is the
   * record of what ran: it is kept unless you say otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The job ledger: a DynamoDB table (on-demand, encrypted, point-in-time
 * recovery, TTL) with one item per job and dispatcher, keyed
 * `<dispatcher startedBy>#<job id>`. The dispatcher reserves each launch
 * attempt in it before calling RunTask and records the task after; the
 * tracker records the outcome. Share one ledger between dispatchers by
 * passing it to each (`DispatchTarget.fargateJob(job, { ledger })`). The
 * item schema is in the README ("What happened to job X?").
 */
export class JobLedger extends Construct implements IJobLedger {
  public readonly table: dynamodb.ITable;
  public readonly timeToLive: Duration;

  constructor(scope: Construct, id: string, props: JobLedgerProps = {}) {
    super(scope, id);
    this.timeToLive = props.timeToLive ?? Duration.days(30);
    const days = this.timeToLive.toDays({ integral: false });
    if (!Token.isUnresolved(days) && days < 15) {
      throw new Error(`${this.node.path}: timeToLive must be at least 15 days (a job can come back from a dead-letter or failed-jobs queue `
        + `for 14 days), got ${this.timeToLive.toHumanString()}`);
    }
    this.table = new dynamodb.Table(this, 'Resource', {
      partitionKey: { name: LEDGER_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeCompliance(this.table, [{
      rule: 'DynamoDBInBackupPlan',
      reason: `The job ledger ${this.node.path} (each job's attempts, task and outcome) has point-in-time recovery (35 days of continuous `
        + 'backups) and is kept after stack deletion; an AWS Backup plan is an account-level choice: add ledger.table to yours.',
    }]);
  }

  public grantReadJobs(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resourceArns: [this.table.tableArn] });
  }

  public grantRecordJobs(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resourceArns: [this.table.tableArn] });
  }
}
