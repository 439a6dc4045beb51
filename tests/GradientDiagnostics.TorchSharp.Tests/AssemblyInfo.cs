// TorchSharp's default generator (manual_seed, randn without a generator, module initialization) is one per process.
// Tests seed it and then build models and batches from it; run in parallel, another test's draws land between the seed
// and the model, so a "same seed, same weights" comparison fails now and then (seen in CI: the fault campaign's final
// loss 0.509569 vs 0.499313). The tests of this assembly therefore run one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
