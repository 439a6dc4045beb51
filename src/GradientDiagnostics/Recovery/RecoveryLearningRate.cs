namespace GradientDiagnostics;

/// <summary>
/// The learning-rate cut after a rollback: the rates are multiplied by a factor for a number of steps, then set back. A
/// rollback while a cut is running extends it without multiplying again, so cuts never compound.
/// </summary>
internal sealed class RecoveryLearningRate(double factor, int steps)
{
    private int _stepsLeft;

    /// <summary>Counts one step; true when a running cut expires now and the rates must be set back.</summary>
    public bool Tick() => _stepsLeft > 0 && --_stepsLeft == 0;

    /// <summary>Starts (or extends) a cut at a rollback; the factor to apply now, or null when none is to be applied.</summary>
    public double? Cut()
    {
        if (factor >= 1)
        {
            return null;
        }

        double? scale = _stepsLeft > 0 ? null : factor;
        _stepsLeft = steps;
        return scale;
    }

    /// <summary>Ends any running cut (recovery gives up); true when one was running and the rates must be set back.</summary>
    public bool Stop()
    {
        bool running = _stepsLeft > 0;
        _stepsLeft = 0;
        return running;
    }

    public ComponentState SaveState(ComponentState state) => state.With("learningRateStepsLeft", (long)_stepsLeft);

    public void LoadState(ComponentState state) => _stepsLeft = checked((int)state.CountOf("learningRateStepsLeft"));
}
