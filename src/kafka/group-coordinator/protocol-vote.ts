/**
 * Which protocol (for consumers: which partition assignor) a group uses, decided as Kafka decides it.
 *
 * Owns nothing; pure. The candidates are the protocols every member supports; each member votes for the
 * first candidate in its own order of preference; the candidate with most votes wins. Ties go to the
 * candidate the first member (in join order) prefers, so the outcome never depends on map iteration.
 *
 * Example: A prefers [range, roundrobin], B [roundrobin, range], C [roundrobin]. Candidates: {roundrobin}
 * (C supports nothing else). Everyone votes roundrobin.
 */

/** What the vote reads of a member: its protocols, most preferred first. */
export interface VotingMember {
  readonly protocols: readonly { readonly name: string }[];
}

/** The protocols every member supports, in the first member's order of preference. */
export function protocolsSupportedByAll(members: readonly VotingMember[]): string[] {
  if (members.length === 0) return [];
  const [first, ...rest] = members;
  return first.protocols.map((protocol) => protocol.name).filter((name) => rest.every((member) => member.protocols.some((protocol) => protocol.name === name)));
}

/**
 * Whether a member with `protocolType` and `protocols` may join a group whose protocol type is
 * `groupProtocolType` and whose other members are `others` (Kafka's INCONSISTENT_GROUP_PROTOCOL rule):
 * a group without other members takes any non-empty protocol type with at least one protocol; otherwise
 * the type must match and the member must support a protocol all the others support.
 */
export function canJoinWith(groupProtocolType: string | null, others: readonly VotingMember[], protocolType: string, protocols: readonly { name: string }[]): boolean {
  if (protocolType === '' || protocols.length === 0) return false;
  if (others.length === 0) return true;
  if (groupProtocolType !== protocolType) return false;
  const common = new Set(protocolsSupportedByAll(others));
  return protocols.some((protocol) => common.has(protocol.name));
}

/** The winning protocol among `members` (non-empty, with at least one protocol in common). */
export function voteProtocol(members: readonly VotingMember[]): string {
  const candidates = protocolsSupportedByAll(members);
  if (candidates.length === 0) throw new Error('voteProtocol: the members share no protocol (joins are checked with canJoinWith)');
  const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
  for (const member of members) {
    const choice = member.protocols.find((protocol) => votes.has(protocol.name));
    if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
  }
  let winner = candidates[0];
  for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(winner) ?? 0)) winner = name;
  return winner;
}
