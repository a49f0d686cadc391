"""The peers: the 佛山 2022 policy as another rules engine would hold it (OpenFisca
variables, CEL expressions), for the benchmark's speed and correctness comparison."""
