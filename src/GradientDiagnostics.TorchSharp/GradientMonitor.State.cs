namespace GradientDiagnostics.TorchSharp;

/// <content>Checkpoint and resume: the monitor's state saved with the model and the optimizer (docs/reliability.md).</content>
public sealed partial class GradientMonitor
{
    /// <summary>Saves the monitor's state to <paramref name="path"/>, atomically: it is written to a temporary file in the same
    /// directory and renamed over <paramref name="path"/> once complete, so a crash while saving leaves the earlier file as
    /// it was. The state is everything that shapes a later step's result (the step count, the detectors' and clipping
    /// policy's history, alert cooldowns and persistence counters, the loss scaler under mixed precision, the recovery
    /// ledger, the report's bounded history), as a versioned JSON document (docs/reliability.md). Recovery's snapshots (tensors)
    /// are not saved: after a resume the first snapshot is taken as on a fresh run. Save between steps, after
    /// <c>optimizer.step()</c>, together with the model (<c>Module.save</c>), the optimizer (<c>save_state_dict</c>) and,
    /// under mixed precision, the masters (<see cref="MixedPrecisionTraining.SaveMasterWeights"/>).</summary>
    /// <param name="path">The file to write.</param>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="IOException">The file cannot be written; the earlier file, if any, is unchanged.</exception>
    public void SaveState(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        AtomicFile.Write(path, SaveState);
    }

    /// <summary>Writes the monitor's state (see <see cref="SaveState(string)"/>) to <paramref name="stream"/>, which is flushed
    /// and left open (unlike TorchSharp's <c>Module.save(Stream)</c>, which closes it).</summary>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    public void SaveState(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _analyzer.SaveState(stream);
    }

    /// <summary>Restores a state saved by <see cref="SaveState(string)"/>, on a monitor attached to a freshly built model whose
    /// weights were loaded from the same checkpoint. Call it after <see cref="EnableMixedPrecision"/> and
    /// <see cref="EnableRecovery"/> when the saved run used them, and before the first <see cref="Step"/>: the next step is
    /// numbered from the saved step, JSON Lines appends to its file (cutting lines of steps after the saved one), and
    /// TensorBoard writes the next steps into the same log directory.</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The state cannot be loaded (see <see cref="LoadState(Stream)"/>); the monitor
    /// is unchanged.</exception>
    public void LoadState(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using FileStream stream = File.OpenRead(path);
        LoadState(stream);
    }

    /// <summary>Restores a state written by <see cref="SaveState(Stream)"/> (see <see cref="LoadState(string)"/>); the
    /// stream is left open.</summary>
    /// <param name="stream">A readable stream positioned at the state.</param>
    /// <exception cref="ObjectDisposedException">The monitor was disposed.</exception>
    /// <exception cref="InvalidDataException">The state cannot be loaded, and the monitor is left exactly as it was. The
    /// message names the problem: a truncated or corrupt file; a newer format version (naming both versions); a state saved
    /// for a different model (naming the first layer that differs); a state with mixed precision when this monitor has
    /// none, or the reverse; a state with recovery when this monitor has none.</exception>
    public void LoadState(Stream stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _analyzer.LoadState(stream);
        // The probes and the time profile were armed at attach for step 0; arm them for the resumed step.
        _measurement.ArmProbes(_analyzer.NextStepKind == GradientStepKind.Full);
        _timeProfiles?.PrepareNextStep(_analyzer.NextStepMeasuresTime);
    }
}
