import { InvalidArgumentError } from 'commander';

/** Argument parsers for commander options: a bad value is a usage error naming the rule. */
export const integerArg = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n))
    throw new InvalidArgumentError('must be an integer');
  return n;
};

export const numberArg = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError('must be a number');
  return n;
};
