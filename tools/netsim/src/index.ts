export {
  type Endpoint,
  type Netsim,
  type NetsimOptions,
  type NetsimStats,
  DEFAULT_SOCKET_BUFFER_BYTES,
  startNetsim,
} from "./netsim.js";
export {
  type Emission,
  type EmissionKind,
  Impairer,
  type ImpairmentStats,
  MAX_GARBAGE_BYTES,
  MAX_MUTATED_BYTES,
} from "./impairer.js";
export {
  IMPAIRMENT_KEYS,
  IMPAIRMENT_OPTIONS,
  type ImpairmentOption,
  type ImpairmentOptions,
  NetsimOptionsError,
  type OptionIssue,
  type OptionNamer,
  resolveImpairmentOptions,
} from "./options.js";
export {
  fragmentCount,
  fragmentPayloadBytes,
  wireBytes,
  IPV4_HEADER_BYTES,
  UDP_HEADER_BYTES,
  MAX_UDP_PAYLOAD_BYTES,
} from "./fragments.js";
export { type Random, createRandom, deriveSeed, MAX_SEED } from "./random.js";
