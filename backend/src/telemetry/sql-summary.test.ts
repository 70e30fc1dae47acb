import { describe, expect, it } from 'vitest';
import { summarizeSql } from './sql-summary';

describe('summarizeSql', () => {
  it.each([
    ['select "id" from "renovation_sessions" where "id" = $1', 'SELECT renovation_sessions'],
    ['insert into "payments" ("id") values (default) returning "id"', 'INSERT payments'],
    ['update "messages" set "content" = $1', 'UPDATE messages'],
    ['delete from "messages" where true', 'DELETE messages'],
    ['  SELECT 1', 'SELECT'],
    ['LOCK TABLE renovation_sessions IN ACCESS EXCLUSIVE MODE', 'LOCK renovation_sessions'],
    ['BEGIN', 'BEGIN'],
  ])('when the statement is %s, then the span is named %s', (text, name) => {
    expect(summarizeSql(text)?.name).toBe(name);
  });

  it('when the text is not SQL it knows, then there is no summary', () => {
    expect(summarizeSql('vacuum full')).toBeUndefined();
  });
});
