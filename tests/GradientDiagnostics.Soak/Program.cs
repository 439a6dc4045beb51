using System.Diagnostics;
using System.Globalization;
using GradientDiagnostics;
using GradientDiagnostics.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

// Issue 9 §6: 10,000 steps of a real MLP with the monitor, its probes and parameter copies on; the native tensor count
// and the managed heap after a full GC must stay flat, and the alert count must stay within what the cooldowns allow.
// Faults are injected so the alert path is exercised: an isolated NaN gradient every 500 steps (a new episode each
// time, so each is reported) and one sustained 1,000-step NaN episode in a single layer (reported once per cooldown).
// Arguments: [steps] [--no-faults] [--defaults] [--spike-floor x]. --no-faults runs the same training without any injected
// fault (a healthy run); --defaults attaches with default options (probes at the default full-statistics cadence)
// instead of probes and parameter copies on one step in five; --spike-floor sets Exploding.SpikeMinFactorOverMean (1 = the
// z-score alone), to measure that default.
int steps = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
bool faults = !args.Contains("--no-faults");
bool defaults = args.Contains("--defaults");
int floorAt = Array.IndexOf(args, "--spike-floor");
double? spikeFloor = floorAt >= 0 ? double.Parse(args[floorAt + 1], CultureInfo.InvariantCulture) : null;
const int Width = 32, Batch = 16, IsolatedEvery = 500, WarmupSteps = 1_000;
int episodeStart = faults ? steps / 2 : steps, episodeEnd = faults ? episodeStart + Math.Min(1_000, steps / 10) : steps;

manual_seed(9);
var model = nn.Sequential(
    ("fc0", nn.Linear(Width, Width)), ("act0", nn.ReLU()),
    ("fc1", nn.Linear(Width, Width)), ("act1", nn.Tanh()),
    ("fc2", nn.Linear(Width, Width)), ("act2", nn.ReLU()),
    ("head", nn.Linear(Width, 1)));
var options = new GradientMonitorOptions();
using var monitor = model.AttachGradientMonitor(o =>
{
    if (!defaults)
    {
        o.CaptureLayerOutputs = true;
        o.CaptureParameterUpdates = true;
        o.FullStatisticsInterval = 5; // probes, activations and parameter copies on one step in five
    }

    o.Exploding.SpikeMinFactorOverMean = spikeFloor ?? o.Exploding.SpikeMinFactorOverMean;
    options = o;
});
// Only each alert's kind and layer are kept, so the managed-heap reading measures the library, not this program; the
// first few alerts of other kinds than NonFinite (the injected faults) are printed in full, since a healthy run should
// have none and each one needs an explanation.
double batchLoss = 0, batchMaxAbs = 0;
var recentLosses = new Queue<double>();
var recentNorms = new Queue<double>();
var spikes = new List<(double NormOverMedian, double LossOverMedian)>();
// Every step whose global norm is at least 5x the median of the last 100 (alerted or not), with the previous step's
// norm: what the spike criterion had to judge, so a quiet run can show what it stayed quiet on.
var jumps = new List<(double NormOverMedian, double LossOverMedian, double PreviousOverMedian)>();
double previousNorm = double.NaN;
var alerts = new List<(GradientAlertKind Kind, string Layer)>(capacity: 1_000);
int printedOther = 0;
monitor.AlertRaised += (_, alert) =>
{
    alerts.Add((alert.Kind, alert.Layer));
    if (alert.Kind != GradientAlertKind.NonFinite && printedOther++ < 10)
    {
        // The batch behind the alert, against the run's typical batch: an outlier batch explains a spike.
        Console.WriteLine($"  alert: {alert}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    batch: loss {batchLoss:G3} (median of the last 100: {Median(recentLosses):G3}), max |x| {batchMaxAbs:F2}"));
    }
};
using var optimizer = optim.SGD(model.parameters(), 0.01);
var generator = new Generator(9);
var firstWeight = model.parameters().First();

long liveAtWarmup = 0, managedAtWarmup = 0, skipped = 0, isolated = 0;
var watch = Stopwatch.StartNew();
Console.WriteLine("step  live tensors  managed bytes after GC  alerts");
for (int step = 0; step < steps; step++)
{
    using (var scope = NewDisposeScope())
    {
        optimizer.zero_grad();
        var x = randn([Batch, Width], generator: generator);
        var y = x[.., ..4].sum(1, keepdim: true).sin();
        var loss = nn.functional.mse_loss(model.call(x), y);
        loss.backward();
        bool inEpisode = step >= episodeStart && step < episodeEnd;
        bool isolatedFault = faults && step % IsolatedEvery == IsolatedEvery / 2 && !inEpisode;
        batchLoss = loss.item<float>();
        batchMaxAbs = x.abs().max().item<float>();
        if (inEpisode || isolatedFault)
        {
            using var noGrad = no_grad();
            using var grad = firstWeight.grad!;
            grad.view(-1)[0].fill_(double.NaN);
            isolated += isolatedFault ? 1 : 0;
        }

        GradientStepResult result = monitor.Step(loss);
        if (result.Alerts.Any(a => a.Kind == GradientAlertKind.Exploding))
        {
            spikes.Add((result.GlobalNorm / Median(recentNorms), batchLoss / Median(recentLosses)));
        }

        if (recentNorms.Count == 100 && result.GlobalNorm >= 5 * Median(recentNorms))
        {
            jumps.Add((result.GlobalNorm / Median(recentNorms), batchLoss / Median(recentLosses), previousNorm / Median(recentNorms)));
        }

        previousNorm = result.GlobalNorm;
        recentLosses.Enqueue(batchLoss);
        if (double.IsFinite(result.GlobalNorm))
        {
            recentNorms.Enqueue(result.GlobalNorm);
        }

        if (recentLosses.Count > 100)
        {
            recentLosses.Dequeue();
        }

        if (recentNorms.Count > 100)
        {
            recentNorms.Dequeue();
        }

        skipped += result.SkipStep ? 1 : 0;
        if (!result.SkipStep)
        {
            optimizer.step();
        }
    }

    if (step + 1 == WarmupSteps || (step + 1) % 1_000 == 0)
    {
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount, managed = ManagedBytes();
        (liveAtWarmup, managedAtWarmup) = step + 1 == WarmupSteps ? (live, managed) : (liveAtWarmup, managedAtWarmup);
        Console.WriteLine($"{step + 1,5}  {live,12}  {managed,22}  {alerts.Count,6}");
    }
}

long liveEnd = DisposeScopeManager.Statistics.ThreadTotalLiveCount, managedEnd = ManagedBytes();
int cooldown = options.NonFinite.CooldownSteps, episode = episodeEnd - episodeStart;
// Isolated faults fire once each; the sustained episode fires on its first step and then once per cooldown + 1 steps.
long nonFiniteBound = isolated + (episode + cooldown) / (cooldown + 1);
long nonFinite = alerts.Count(a => a.Kind == GradientAlertKind.NonFinite);
// Every other alert kind: at most once per cooldown + 1 steps per (kind, layer), as the alert gate promises.
var otherBound = alerts.Where(a => a.Kind != GradientAlertKind.NonFinite).GroupBy(a => (a.Kind, a.Layer))
    .Select(g => (g.Key, Count: g.Count(), Bound: (steps / (CooldownOf(options, g.Key.Kind) + 1)) + 1)).ToList();

Console.WriteLine($"{steps} steps in {watch.Elapsed.TotalSeconds:F1} s; live tensors {liveAtWarmup} -> {liveEnd}; " +
    $"managed bytes {managedAtWarmup} -> {managedEnd} ({managedEnd - managedAtWarmup:+#;-#;0}); skipped {skipped} " +
    $"(expected {isolated + episode}); NonFinite alerts {nonFinite} (bound {nonFiniteBound}: {isolated} isolated + " +
    $"{(episode + cooldown) / (cooldown + 1)} for a {episode}-step episode at cooldown {cooldown}); other alerts {alerts.Count - nonFinite}.");
foreach (var group in otherBound)
{
    Console.WriteLine($"  {group.Key.Kind} on {group.Key.Layer}: {group.Count} (bound {group.Bound})");
}

if (spikes.Count > 0)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  Exploding alerts (SpikeMinFactorOverMean {options.Exploding.SpikeMinFactorOverMean}): {spikes.Count}; " +
        $"global norm / median of the last 100 steps {spikes.Min(s => s.NormOverMedian):F1}–{spikes.Max(s => s.NormOverMedian):F1}; " +
        $"the batch's loss / median loss of the last 100 steps {spikes.Min(s => s.LossOverMedian):F0}–{spikes.Max(s => s.LossOverMedian):F0}"));
}

if (jumps.Count > 0)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  steps with a global norm >= 5x the median of the last 100: {jumps.Count}; " +
        $"norm / median {jumps.Min(j => j.NormOverMedian):F1}–{jumps.Max(j => j.NormOverMedian):F1}; " +
        $"the batch's loss / median loss {jumps.Min(j => j.LossOverMedian):F1}–{jumps.Max(j => j.LossOverMedian):F0}; " +
        $"loss ratio / norm ratio >= {jumps.Min(j => j.LossOverMedian / j.NormOverMedian):F2}; " +
        $"the previous step's norm / median {jumps.Min(j => j.PreviousOverMedian):F2}–{jumps.Max(j => j.PreviousOverMedian):F2}"));
}

bool ok = liveEnd == liveAtWarmup
    && managedEnd - managedAtWarmup < 1024 * 1024
    && skipped == isolated + episode
    && nonFinite == nonFiniteBound
    && otherBound.All(g => g.Count <= g.Bound)
    && model.parameters().All(p => p.isfinite().all().item<bool>());
Console.WriteLine(ok ? "SOAK PASSED" : "SOAK FAILED");
return ok ? 0 : 1;

static int CooldownOf(GradientMonitorOptions options, GradientAlertKind kind) => kind switch
{
    GradientAlertKind.Vanishing => options.Vanishing.CooldownSteps,
    GradientAlertKind.Exploding => options.Exploding.CooldownSteps,
    GradientAlertKind.Saturation => options.Saturation.CooldownSteps,
    GradientAlertKind.DeadUnits => options.DeadUnits.CooldownSteps,
    GradientAlertKind.PoorInitialization => options.PoorInitialization.CooldownSteps,
    GradientAlertKind.UpdateRatio => options.UpdateRatio.CooldownSteps,
    GradientAlertKind.PersistentClipping => options.PersistentClipping.CooldownSteps,
    _ => 0,
};

static double Median(IEnumerable<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
}

static long ManagedBytes()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return GC.GetTotalMemory(forceFullCollection: true);
}
