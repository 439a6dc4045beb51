namespace GradientDiagnostics;

/// <summary>What recovery does at one step.</summary>
internal enum RecoveryAction
{
    /// <summary>Nothing: the step is applied, or skipped by the monitor's own non-finite check.</summary>
    None = 0,

    /// <summary>The step spikes: it must not be applied.</summary>
    Refuse = 1,

    /// <summary>Restore the snapshot <see cref="RecoveryDecision.RollBackTo"/>; the step must not be applied.</summary>
    RollBack = 2,

    /// <summary>Recovery reached a limit and stops acting from this step on.</summary>
    GiveUp = 3,
}
