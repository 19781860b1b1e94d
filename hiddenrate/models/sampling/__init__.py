"""Sampling machinery: NUTS through nutpie, compiled log-densities, the Gibbs-HMC sampler, the compile cache."""
