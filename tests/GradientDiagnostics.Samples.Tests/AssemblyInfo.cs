// The samples seed TorchSharp's default generator (manual_seed) and then build their models from it; it is one per
// process, so a sample run in parallel with another test's draws gets other weights. Seen in CI: the GradientFlowDemo
// sigmoid run's weights moved (fc1 std 0.101 instead of 0.102) and its alerts no longer carried two criteria at once.
// The tests of this assembly therefore run one class at a time, as the TorchSharp tests do.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
