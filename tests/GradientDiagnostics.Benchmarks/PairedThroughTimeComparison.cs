using System.Globalization;
using GradientDiagnostics.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace GradientDiagnostics.Benchmarks;

/// <summary>The cost of the time profile: whole training steps of a 2-layer LSTM (hidden 256, sequence 100, batch 16) in
/// cycles of 200 steps (one default measuring period, so every cycle holds one measuring step), plain, monitored with the
/// time profile off, and monitored with it on at the default cadence; interleaved and paired by round.
/// <c>--paired-through-time [rounds]</c>.</summary>
internal static class PairedThroughTimeComparison
{
    private const int CycleSteps = 200;

    public static void Run(int rounds)
    {
        (string Name, Action<GradientMonitorOptions>? Configure)[] variants =
            [("plain", null), ("monitor, time profile off", o => o.ThroughTime.Enabled = false), ("monitor, time profile on", _ => { })];
        var setups = variants.Select(v => Setup(v.Configure)).ToArray();
        using var x = randn(100, 16, 32);
        using var y = randn(16, 256);
        Action[] calls = [.. setups.Select(s => (Action)(() => Cycle(s.Model, s.Optimizer, s.Monitor, x, y)))];
        List<double>[] times = PairedRunner.TimeInterleaved(calls, rounds, () => { });
        double plain = PairedRunner.Median(times[0]);
        for (int i = 0; i < variants.Length; i++)
        {
            double[] ratios = [.. times[i].Select((t, r) => t / times[0][r])];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{variants[i].Name,-28} median {PairedRunner.Median(times[i]) / CycleSteps,7:F1} ms/step, paired ratio to plain {PairedRunner.Median(ratios):F3} "
                + $"(min {ratios.Min():F3}, max {ratios.Max():F3}, {rounds} rounds of {CycleSteps} steps)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plain step {plain / CycleSteps:F1} ms"));
    }

    private static (nn.Module<Tensor, Tensor> Model, optim.Optimizer Optimizer, GradientMonitor? Monitor) Setup(Action<GradientMonitorOptions>? configure)
    {
        manual_seed(7);
        var model = new TwoLayerLstm();
        return (model, optim.SGD(model.parameters(), 1e-3), configure is null ? null : model.AttachGradientMonitor(configure));
    }

    private static void Cycle(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, GradientMonitor? monitor, Tensor x, Tensor y)
    {
        for (int step = 0; step < CycleSteps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = (model.call(x)[99] - y).square().mean();
            loss.backward();
            if (monitor?.Step(loss).SkipStep != true)
            {
                optimizer.step();
            }
        }
    }

    private sealed class TwoLayerLstm : nn.Module<Tensor, Tensor>
    {
        private readonly global::TorchSharp.Modules.LSTM lstm = nn.LSTM(32, 256, numLayers: 2);

        public TwoLayerLstm()
            : base(nameof(TwoLayerLstm)) => RegisterComponents();

        public override Tensor forward(Tensor input) => lstm.call(input).Item1;
    }
}
