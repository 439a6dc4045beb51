namespace GradientDiagnostics.Seam.Tests;

/// <summary>
/// This adapter's recovery target: snapshots of <see cref="ArrayNetwork"/>'s weights in plain arrays, and a learning
/// rate the training loop reads. The core calls it from <see cref="GradientAnalyzer.Analyze"/>; the adapter never reads
/// recovery state back from the analyzer.
/// </summary>
internal sealed class ArrayRecoveryTarget(ArrayNetwork network, float learningRate) : IRecoveryTarget
{
    private readonly Dictionary<long, float[][]> _snapshots = [];
    private float _original = learningRate;

    /// <summary>The learning rate the training loop applies, scaled after a rollback.</summary>
    public float LearningRate { get; private set; } = learningRate;

    /// <summary>The steps of the snapshots held.</summary>
    public IReadOnlyCollection<long> Held => _snapshots.Keys;

    /// <summary>Every call the core made, in order, for the tests to read.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>The weights as the last rollback left them.</summary>
    public float[][] AtRollback { get; private set; } = [];

    /// <summary>When true, captures fail as an out-of-memory capture would.</summary>
    public bool FailCaptures { get; set; }

    public bool TakeSnapshot(long snapshotStep, long? replacing)
    {
        Calls.Add($"snapshot {snapshotStep}" + (replacing is long r ? $" replacing {r}" : ""));
        if (replacing is long evicted)
        {
            _snapshots.Remove(evicted);
        }

        if (FailCaptures)
        {
            return false;
        }

        _snapshots[snapshotStep] = [.. network.Weights.Select(w => w.ToArray())];
        return true;
    }

    public void RollBack(long snapshotStep)
    {
        Calls.Add($"rollback {snapshotStep}");
        for (int l = 0; l < network.Depth; l++)
        {
            _snapshots[snapshotStep][l].CopyTo(network.Weights[l], 0);
        }

        AtRollback = [.. network.Weights.Select(w => w.ToArray())];
    }

    public void ScaleLearningRate(double factor)
    {
        Calls.Add($"scale {factor}");
        _original = LearningRate;
        LearningRate = (float)(LearningRate * factor);
    }

    public void RestoreLearningRate()
    {
        Calls.Add("restore");
        LearningRate = _original;
    }

    public void DropSnapshot(long snapshotStep)
    {
        Calls.Add($"drop {snapshotStep}");
        _snapshots.Remove(snapshotStep);
    }
}
