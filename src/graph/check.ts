// What a plan must pass after it loads: the deadlock check on its execution
// graph. The loader (src/plan/) knows nothing of the graph; every command that
// loads a plan (validate, run, graph) compiles the graph and calls this, and so
// do tests that need a plan checked the way the CLI checks it.
import { IssueList, sortIssues } from '../plan/issue-collector.js';
import type { PlanIssue } from '../plan/issues.js';
import { checkDeadlocks } from './deadlock.js';
import type { ExecutionGraph } from './graph.js';

/**
 * The deadlock check's warnings (a wait that may hang), in file order. When it
 * finds an error, throws one PlanError with every issue, warnings included,
 * shortened and in file order like the loader's own errors.
 */
export function checkGraph(graph: ExecutionGraph): PlanIssue[] {
  const issues = new IssueList();
  for (const issue of checkDeadlocks(graph)) issues.push(issue);
  issues.throwIfErrors();
  return sortIssues(issues.issues);
}
