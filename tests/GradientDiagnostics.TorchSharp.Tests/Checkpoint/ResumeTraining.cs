using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>
/// A run trained unbroken, or stopped at <see cref="Scenario.ResumeAt"/>, checkpointed (model with <c>Module.save</c>,
/// optimizer with <c>save_state_dict</c>, monitor with <see cref="GradientMonitor.SaveState(string)"/>, masters under
/// mixed precision), rebuilt from nothing and resumed. Deterministic: the model is built from a fixed seed and each step's
/// batch from its own generator seeded by the step, so both runs see the same batches whatever else draws random numbers.
/// </summary>
internal static class ResumeTraining
{
    public const int Inputs = 8;

    /// <param name="Steps">Steps in all.</param>
    /// <param name="ResumeAt">The step the run stops before and resumes at.</param>
    /// <param name="Float16">Trains a float16 model with fp32 masters and dynamic loss scaling.</param>
    /// <param name="Recovery">Enables recovery with its defaults.</param>
    /// <param name="TargetScale">Multiplies a step's targets (a spike or a burst of bad labels); 1 when null.</param>
    /// <param name="Options">Monitor options.</param>
    public sealed record Scenario(
        int Steps = 200,
        int ResumeAt = 100,
        bool Float16 = false,
        bool Recovery = false,
        Func<int, double>? TargetScale = null,
        Action<GradientMonitorOptions>? Options = null,
        Action<MixedPrecisionOptions>? MixedPrecision = null,
        int Seed = 3);

    public sealed class Log
    {
        public List<GradientStepResult> Results { get; } = [];

        public List<GradientAlert> Alerts { get; } = [];

        public List<float[]> FinalWeights { get; } = [];

        /// <summary>The HTML of the live report built at the end of the run.</summary>
        public string? Report { get; set; }
    }

    /// <summary>Runs the scenario unbroken (<paramref name="checkpoint"/> null) or stopped and resumed through the files in
    /// <paramref name="checkpoint"/>.</summary>
    public static Log Run(Scenario scenario, string? checkpoint)
    {
        var log = new Log();
        if (checkpoint is null)
        {
            Train(scenario, 0, scenario.Steps, load: null, save: null, log);
        }
        else
        {
            Train(scenario, 0, scenario.ResumeAt, load: null, save: checkpoint, log);
            Train(scenario, scenario.ResumeAt, scenario.Steps, load: checkpoint, save: null, log);
        }

        return log;
    }

    /// <summary>Trains steps [<paramref name="from"/>, <paramref name="to"/>) with a model, optimizer and monitor built anew,
    /// loading the checkpoint first when given and saving one at the end when asked.</summary>
    public static void Train(Scenario scenario, int from, int to, string? load, string? save, Log log, Action<GradientMonitor>? beforeSteps = null,
        Action<int, GradientMonitor>? atStep = null)
    {
        using Sequential model = Model(scenario);
        if (load is not null)
        {
            model.load(Path.Combine(load, "model.bin"));
        }

        using GradientMonitor monitor = model.AttachGradientMonitor(scenario.Options);
        MixedPrecisionTraining? mp = scenario.Float16 ? monitor.EnableMixedPrecision(scenario.MixedPrecision) : null;
        using var optimizer = optim.Adam(mp?.MasterParameters ?? model.parameters(), lr: 0.01);
        if (scenario.Recovery)
        {
            monitor.EnableRecovery(optimizer);
        }

        if (load is not null)
        {
            mp?.LoadMasterWeights(Path.Combine(load, "masters.bin"));
            optimizer.load_state_dict(Path.Combine(load, "optimizer.bin"));
            monitor.LoadState(Path.Combine(load, "monitor.json"));
        }

        monitor.AlertRaised += (_, alert) => log.Alerts.Add(alert);
        beforeSteps?.Invoke(monitor);
        for (int step = from; step < to; step++)
        {
            atStep?.Invoke(step, monitor);
            using var scope = NewDisposeScope();
            (Tensor x, Tensor y) = Batch(scenario, step);
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(x).to_type(ScalarType.Float32), y);
            (mp?.ScaleLoss(loss) ?? loss).backward();
            GradientStepResult result = monitor.Step(loss);
            log.Results.Add(result);
            if (!result.SkipStep)
            {
                if (mp is null)
                {
                    optimizer.step();
                }
                else
                {
                    mp.Step(optimizer);
                }
            }
        }

        if (save is not null)
        {
            Directory.CreateDirectory(save);
            model.save(Path.Combine(save, "model.bin"));
            optimizer.save_state_dict(Path.Combine(save, "optimizer.bin"));
            monitor.SaveState(Path.Combine(save, "monitor.json"));
            mp?.SaveMasterWeights(Path.Combine(save, "masters.bin"));
            return;
        }

        log.Report = monitor.CreateReport("resume").ToHtml();
        foreach (Tensor weight in (mp?.MasterParameters ?? [.. model.parameters()]).Concat(model.parameters()))
        {
            log.FinalWeights.Add(weight.detach().to_type(ScalarType.Float32).data<float>().ToArray());
        }
    }

    public static Sequential Model(Scenario scenario)
    {
        manual_seed(scenario.Seed);
        Sequential model = nn.Sequential(
            ("fc0", nn.Linear(Inputs, 32)), ("act0", nn.Tanh()),
            ("fc1", nn.Linear(32, 32)), ("act1", nn.Tanh()),
            ("head", nn.Linear(32, 1)));
        if (scenario.Float16)
        {
            model.to(ScalarType.Float16);
        }

        return model;
    }

    private static (Tensor X, Tensor Y) Batch(Scenario scenario, int step)
    {
        using var generator = new Generator((ulong)((scenario.Seed * 100_000) + step));
        Tensor x = randn([32, Inputs], generator: generator);
        Tensor y = x[.., ..4].sum(1, keepdim: true).mul(0.5).sin();
        double scale = scenario.TargetScale?.Invoke(step) ?? 1;
        y = scale == 1 ? y : y * scale;
        return (scenario.Float16 ? x.to_type(ScalarType.Float16) : x, y);
    }
}
