namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <summary>One recurrent module's time-profile probe: armed before a measuring step's forward pass, queued on the step's
/// host transfer after backward, completed into profiles from the transferred values, then reset.</summary>
internal interface IRecurrentProbe : IDisposable
{
    /// <summary>Whether the coming forward passes are captured (the hooks do nothing otherwise).</summary>
    bool Armed { set; }

    /// <summary>Reads what the step captured (running whatever device work it needs) and queues it on the transfer.</summary>
    void Queue(HostTransfer transfer);

    /// <summary>The module's profiles from the transferred values: measured, or marked not measured with the reason.</summary>
    RecurrentTimeProfile[] Complete(ReadOnlySpan<double> host, double horizonFraction);

    /// <summary>Releases whatever the step captured.</summary>
    void Reset();
}
