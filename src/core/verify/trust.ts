import type { NormalizedIssuer } from '../config/options.js'
import type { KeyStore } from '../types.js'
import type { ClaimRules } from './claims.js'

/** A trusted issuer, ready for requests: its normalized options, its claim rules and its keys. */
export interface Trust {
  readonly options: NormalizedIssuer
  readonly rules: ClaimRules
  readonly keys: KeyStore
}
