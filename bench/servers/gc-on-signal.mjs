// Preloaded into byok-proxy by the benchmark (with --expose-gc): SIGUSR2 runs a full garbage
// collection, so the RSS read right after is what the process holds, not garbage not yet
// collected. Nothing else changes.
process.on('SIGUSR2', () => globalThis.gc?.());
