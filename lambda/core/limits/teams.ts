/**
 * Team limits: the same limits a key can have, shared by every key whose `team` names the team.
 * Admins set them through `PUT /admin/teams/{team}`; the limiter reads them with a short cache.
 */
import type { KeyLimits } from '../keys';

export interface TeamRecord {
  readonly team: string;
  readonly limits: KeyLimits;
  readonly updatedAt?: string;
}

export interface TeamLimitsStore {
  getTeam(team: string): Promise<TeamRecord | undefined>;
  /** Replace a team's limits (an empty object removes them). */
  putTeam(team: string, limits: KeyLimits): Promise<TeamRecord>;
}
