/** Props validation after aws-solutions-constructs' CheckProps: collect every problem, throw once. */
import { Token } from 'aws-cdk-lib';

export class PropsProblems {
  private readonly problems: string[] = [];

  constructor(private readonly construct: string) {}

  add(prop: string, message: string): void {
    this.problems.push(`${prop}: ${message}`);
  }

  /** A number prop within [min, max], skipped when it is an unresolved token. */
  range(prop: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!(value >= min && value <= max)) this.add(prop, `must be between ${min} and ${max} (got ${value})`);
  }

  throwIfAny(): void {
    if (this.problems.length) throw new Error(`Invalid ${this.construct} props:\n  - ${this.problems.join('\n  - ')}`);
  }
}
