// Which agent runs which worker. The rule (docs/agents.md): workers are taken
// role by role, in the plan's role order, by id within a role, and dealt to the
// agents in turn, the deal carrying on from one role to the next. So every agent
// gets the same number of workers give or take one, and every role is spread
// over as many agents as it has workers (up to all of them): losing one agent
// never takes a whole role with it when the role has several workers.

export interface Lane {
  id: number;
  role: string;
}

/** Worker ids per agent, in the order of `agents`; agents past the number of workers get none. */
export function assignLanes(lanes: Lane[], roles: string[], agents: string[]): Map<string, number[]> {
  if (agents.length === 0) throw new Error('no agent to assign workers to');
  const order = new Map(roles.map((r, i) => [r, i]));
  const sorted = [...lanes].sort((a, b) => (order.get(a.role) ?? roles.length) - (order.get(b.role) ?? roles.length) || a.id - b.id);
  const out = new Map<string, number[]>(agents.map((a) => [a, []]));
  for (const [i, lane] of sorted.entries()) out.get(agents[i % agents.length]!)!.push(lane.id);
  return out;
}
