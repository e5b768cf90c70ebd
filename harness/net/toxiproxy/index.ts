/**
 * The embedded Toxiproxy-compatible server: Toxiproxy 2.12's HTTP API and TCP data plane, so a
 * fleet's links can be faulted without a toxiproxy-server binary.
 */
export { ToxiproxyServer, StartedToxiproxyServer, type ToxiproxyServerOptions } from './server.ts';
export { TOXIPROXY_VERSION } from './api.ts';
export { toxicTypeNames } from './toxics/registry.ts';
