/**
 * An in-process DynamoDB table engine for the JSON protocol's GetItem,
 * PutItem and UpdateItem, with the expression subset the ledger uses:
 * conditions (`=`, `<>`, `<`, `<=`, `>`, `>=`, AND, OR, NOT, parentheses,
 * attribute_exists, attribute_not_exists, contains) and updates (SET with `+`, `-`,
 * if_not_exists and list_append; REMOVE), over top-level attributes.
 * Semantics follow DynamoDB: a comparison with a missing attribute is false,
 * except `<>`, which is true; a failed condition raises
 * ConditionalCheckFailedException and writes nothing. Served over HTTP by
 * `FakeAws`, or called directly by unit tests.
 */

import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoError, DynamoTransport } from '../../src/internal/runtime/dynamodb';
import { JobLedgerStore, ledgerStore } from '../../src/internal/runtime/ledger';
import type { RequestHandler } from '../../src/internal/runtime/signed-request';

export class DynamoApiError extends Error {
  /** With ReturnValuesOnConditionCheckFailure ALL_OLD: the item as it was. */
  public item?: Record<string, any>;
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

type Value = any; // a DynamoDB attribute value ({ S }, { N }, { L }, ...)
type Item = Record<string, Value>;

export class FakeDynamo {
  /** Items by table and key (the `pk` attribute). */
  public readonly tables = new Map<string, Map<string, Item>>();
  /** Calls by operation. */
  public readonly stats: Record<string, number> = {};
  /** Fails the next `times` calls of an operation with an error type (for example 'ThrottlingException'). */
  public readonly faults: Array<{ operation: string; type: string; times: number }> = [];

  constructor(private readonly keyAttribute = 'pk') {}

  /** Handles one operation; throws `DynamoApiError`. */
  public handle(operation: string, body: any): any {
    this.stats[operation] = (this.stats[operation] ?? 0) + 1;
    const fault = this.faults.find((f) => f.operation === operation && f.times > 0);
    if (fault) {
      fault.times--;
      throw new DynamoApiError(fault.type, 'injected');
    }
    const table = this.table(body.TableName);
    const key = this.keyOf(body.Key ?? body.Item);
    switch (operation) {
      case 'GetItem': {
        const item = table.get(key);
        return item ? { Item: clone(item) } : {};
      }
      case 'PutItem': {
        this.check(table.get(key), body);
        table.set(key, clone(body.Item));
        return {};
      }
      case 'UpdateItem': {
        const current = table.get(key);
        this.check(current, body);
        const next = applyUpdate(current ? clone(current) : { [this.keyAttribute]: { S: key } }, body);
        table.set(key, next);
        return body.ReturnValues === 'ALL_NEW' ? { Attributes: clone(next) } : {};
      }
      default:
        throw new DynamoApiError('UnknownOperationException', `operation ${operation} is not faked`);
    }
  }

  /** The items of a table, as stored. */
  public items(tableName: string): Item[] {
    return [...(this.tables.get(tableName)?.values() ?? [])];
  }

  private table(name: string): Map<string, Item> {
    if (!name) throw new DynamoApiError('ValidationException', 'TableName is required');
    let table = this.tables.get(name);
    if (!table) this.tables.set(name, (table = new Map()));
    return table;
  }

  private keyOf(key: any): string {
    const v = key?.[this.keyAttribute]?.S;
    if (typeof v !== 'string' || v === '') throw new DynamoApiError('ValidationException', `the key attribute ${this.keyAttribute} (S) is required`);
    return v;
  }

  private check(item: Item | undefined, body: any): void {
    if (!body.ConditionExpression) return;
    const names = body.ExpressionAttributeNames ?? {};
    const ok = evaluate(parseCondition(body.ConditionExpression), item ?? {}, names, body.ExpressionAttributeValues ?? {});
    if (!ok) {
      const e = new DynamoApiError('ConditionalCheckFailedException', 'The conditional request failed');
      if (body.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item) e.item = clone(item);
      throw e;
    }
  }
}

// ---------------------------------------------------------------- parsing

type Token = { kind: 'name' | 'value' | 'word' | 'op' | 'paren' | 'comma'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>|\+|-)|([()])|(,))/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(pos))) break;
      throw new DynamoApiError('ValidationException', `Invalid expression: syntax error near '${text.slice(pos, pos + 10)}'`);
    }
    pos = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'name', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'value', text: m[2] });
    else if (m[3]) tokens.push({ kind: 'word', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] });
    else if (m[5]) tokens.push({ kind: 'paren', text: m[5] });
    else tokens.push({ kind: 'comma', text: ',' });
  }
  return tokens;
}

type Operand = { kind: 'path'; name: string } | { kind: 'value'; name: string } | { kind: 'call'; fn: string; args: Operand[] } | { kind: 'arith'; op: string; left: Operand; right: Operand };
type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; inner: Condition }
  | { kind: 'compare'; op: string; left: Operand; right: Operand }
  | { kind: 'exists' | 'not_exists'; path: Operand }
  | { kind: 'contains'; path: Operand; operand: Operand };

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new DynamoApiError('ValidationException', 'Invalid expression: unexpected end');
    return t;
  }
  expect(text: string): void {
    const t = this.next();
    if (t.text !== text) throw new DynamoApiError('ValidationException', `Invalid expression: expected '${text}', got '${t.text}'`);
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }
  condition(): Condition {
    let left = this.conjunction();
    while (this.peek()?.kind === 'word' && this.peek()!.text.toUpperCase() === 'OR') {
      this.next();
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }
  conjunction(): Condition {
    let left = this.unary();
    while (this.peek()?.kind === 'word' && this.peek()!.text.toUpperCase() === 'AND') {
      this.next();
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }
  unary(): Condition {
    const t = this.peek();
    if (t?.kind === 'word' && t.text.toUpperCase() === 'NOT') {
      this.next();
      return { kind: 'not', inner: this.unary() };
    }
    if (t?.kind === 'paren' && t.text === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    if (t?.kind === 'word' && t.text === 'contains') {
      this.next();
      this.expect('(');
      const path = this.operand();
      this.expect(',');
      const operand = this.operand();
      this.expect(')');
      return { kind: 'contains', path, operand };
    }
    if (t?.kind === 'word' && (t.text === 'attribute_exists' || t.text === 'attribute_not_exists')) {
      this.next();
      this.expect('(');
      const path = this.operand();
      this.expect(')');
      return { kind: t.text === 'attribute_exists' ? 'exists' : 'not_exists', path };
    }
    const left = this.operand();
    const op = this.next();
    if (op.kind !== 'op' || ['+', '-'].includes(op.text)) throw new DynamoApiError('ValidationException', `Invalid expression: expected a comparator, got '${op.text}'`);
    return { kind: 'compare', op: op.text, left, right: this.operand() };
  }
  operand(): Operand {
    const t = this.next();
    let left: Operand;
    if (t.kind === 'name') {left = { kind: 'path', name: t.text };} else if (t.kind === 'value') {left = { kind: 'value', name: t.text };} else if (t.kind === 'word' && (t.text === 'if_not_exists' || t.text === 'list_append')) {
      this.expect('(');
      const a = this.operand();
      this.expect(',');
      const b = this.operand();
      this.expect(')');
      left = { kind: 'call', fn: t.text, args: [a, b] };
    } else {
      throw new DynamoApiError('ValidationException', `Invalid expression: unexpected '${t.text}' (use #names and :values)`);
    }
    const op = this.peek();
    if (op?.kind === 'op' && (op.text === '+' || op.text === '-')) {
      this.next();
      return { kind: 'arith', op: op.text, left, right: this.operand() };
    }
    return left;
  }
}

const conditionCache = new Map<string, Condition>();
function parseCondition(text: string): Condition {
  let c = conditionCache.get(text);
  if (!c) {
    const p = new Parser(tokenize(text));
    c = p.condition();
    if (!p.atEnd()) throw new DynamoApiError('ValidationException', `Invalid ConditionExpression: trailing '${p.peek()!.text}'`);
    conditionCache.set(text, c);
  }
  return c;
}

// ------------------------------------------------------------- evaluation

function attributeName(name: string, names: Record<string, string>): string {
  const n = names[name];
  if (n === undefined) throw new DynamoApiError('ValidationException', `An expression attribute name used in the document path is not defined; attribute name: ${name}`);
  return n;
}

function resolve(o: Operand, item: Item, names: Record<string, string>, values: Record<string, Value>): Value | undefined {
  switch (o.kind) {
    case 'path': return item[attributeName(o.name, names)];
    case 'value': {
      const v = values[o.name];
      if (v === undefined) throw new DynamoApiError('ValidationException', `An expression attribute value used in expression is not defined; attribute value: ${o.name}`);
      return v;
    }
    case 'call': {
      const [a, b] = o.args.map((x) => resolve(x, item, names, values));
      if (o.fn === 'if_not_exists') return a ?? b;
      if (!a?.L || !b?.L) throw new DynamoApiError('ValidationException', 'list_append takes two lists');
      return { L: [...a.L, ...b.L] };
    }
    case 'arith': {
      const [a, b] = [resolve(o.left, item, names, values), resolve(o.right, item, names, values)];
      if (a?.N === undefined || b?.N === undefined) throw new DynamoApiError('ValidationException', 'An operand in the update expression has an incorrect data type');
      return { N: String(o.op === '+' ? Number(a.N) + Number(b.N) : Number(a.N) - Number(b.N)) };
    }
  }
}

function compare(op: string, a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return op === '<>';
  const ta = Object.keys(a)[0];
  const tb = Object.keys(b)[0];
  if (ta !== tb) return op === '<>';
  const x = ta === 'N' ? Number(a.N) : JSON.stringify(a[ta]);
  const y = tb === 'N' ? Number(b.N) : JSON.stringify(b[tb]);
  switch (op) {
    case '=': return x === y;
    case '<>': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

function evaluate(c: Condition, item: Item, names: Record<string, string>, values: Record<string, Value>): boolean {
  switch (c.kind) {
    case 'and': return evaluate(c.left, item, names, values) && evaluate(c.right, item, names, values);
    case 'or': return evaluate(c.left, item, names, values) || evaluate(c.right, item, names, values);
    case 'not': return !evaluate(c.inner, item, names, values);
    case 'exists': return resolve(c.path, item, names, values) !== undefined;
    case 'not_exists': return resolve(c.path, item, names, values) === undefined;
    case 'contains': {
      // A string's substring, a set's or a list's element (DynamoDB's contains()).
      const [a, b] = [resolve(c.path, item, names, values), resolve(c.operand, item, names, values)];
      if (a?.S !== undefined) return b?.S !== undefined && a.S.includes(b.S);
      if (a?.L) return a.L.some((x: Value) => JSON.stringify(x) === JSON.stringify(b));
      if (a?.NS) return b?.N !== undefined && a.NS.includes(b.N);
      if (a?.SS) return b?.S !== undefined && a.SS.includes(b.S);
      return false;
    }
    default: return compare(c.op, resolve(c.left, item, names, values), resolve(c.right, item, names, values));
  }
}

function applyUpdate(item: Item, body: any): Item {
  const names = body.ExpressionAttributeNames ?? {};
  const values = body.ExpressionAttributeValues ?? {};
  const text: string = body.UpdateExpression ?? '';
  const sections = [...text.matchAll(/\b(SET|REMOVE)\b([\s\S]*?)(?=\b(?:SET|REMOVE)\b|$)/g)];
  if (sections.length === 0) throw new DynamoApiError('ValidationException', 'Invalid UpdateExpression');
  const before = clone(item);
  const seen = new Set<string>();
  const touch = (attr: string) => {
    if (seen.has(attr)) throw new DynamoApiError('ValidationException', `Two document paths overlap with each other; attribute: ${attr}`);
    seen.add(attr);
  };
  for (const [, action, rest] of sections) {
    const p = new Parser(tokenize(rest));
    do {
      const target = p.operand();
      if (target.kind !== 'path') throw new DynamoApiError('ValidationException', 'Invalid UpdateExpression: expected a #name');
      const attr = attributeName(target.name, names);
      touch(attr);
      if (action === 'SET') {
        p.expect('=');
        // Every right-hand side reads the item as it was before the update.
        item[attr] = resolve(p.operand(), before, names, values);
      } else {
        delete item[attr];
      }
    } while (!p.atEnd() && p.next().kind === 'comma');
  }
  return item;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

/** A ledger store over an in-process `FakeDynamo` (unit tests: no HTTP). */
export function inProcessLedger(dynamo = new FakeDynamo(), table = 'jobs',
  now: () => number = Date.now): { ledger: JobLedgerStore; dynamo: FakeDynamo } {
  const transport: DynamoTransport = async (operation, body) => {
    try {
      return dynamo.handle(operation, body);
    } catch (e) {
      if (e instanceof DynamoApiError) throw new DynamoError(e.type, e.message, e.type !== 'ConditionalCheckFailedException' && e.type !== 'ValidationException', e.item);
      throw e;
    }
  };
  return { ledger: new JobLedgerStore(transport, table, 30 * 86400, now), dynamo };
}

/** A ledger store over HTTP against a fake endpoint (the handler's own transport and signing). */
export function httpLedger(url: string, table = 'jobs'): JobLedgerStore {
  return ledgerStore({ table, ttlSeconds: 30 * 86400 }, {
    region: async () => 'eu-west-1',
    credentials: async () => ({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }),
    // the SDK's own HTTP handler, as the handlers use it
    handler: new ECSClient({ region: 'eu-west-1' }).config.requestHandler as unknown as RequestHandler,
  }, url);
}
