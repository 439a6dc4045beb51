namespace GradientDiagnostics.Adapters;

/// <content>Checkpoint and resume: the analyzer's whole state as a versioned JSON document (docs/reliability.md).</content>
public sealed partial class GradientAnalyzer
{
    /// <summary>Writes everything that shapes a later step's result to <paramref name="stream"/> as a versioned JSON
    /// document: the step count, the detectors' history, gates (persistence and cooldown) and windows, the clipping policy's
    /// history, the loss scaler (when enabled), the recovery ledger (without snapshots) and the report's bounded history.
    /// Call it between steps, after the optimizer step, with the model and optimizer checkpoint of the same step.</summary>
    /// <param name="stream">A writable stream; it is flushed and left open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public void SaveState(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        AnalyzerStateFormat.Write(stream, ExportState());
    }

    /// <summary>Restores a state written by <see cref="SaveState"/>: the next step is numbered from the saved step, the
    /// detectors and clipping policy judge it against the saved history, and the JSON Lines output appends after the saved
    /// step (lines of later steps, from a run that went on after the checkpoint, are cut). Call it before the first step,
    /// after <see cref="EnableLossScaling"/> and <see cref="EnableRecovery"/> if the saved run used them.</summary>
    /// <param name="stream">A readable stream positioned at the document; it is left open.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The state cannot be loaded; the analyzer is left exactly as it was. The message
    /// names the problem: a truncated or corrupt document; a newer format version (both versions named); a state saved for
    /// a different model (the first layer that differs named); a state with loss scaling (mixed precision) when this
    /// analyzer has none, or the reverse; a state with recovery when recovery is not enabled here.</exception>
    public void LoadState(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        AnalyzerStateDocument document = AnalyzerStateFormat.Read(stream);
        CheckCompatible(document);
        AnalyzerStateDocument backup = ExportState();
        try
        {
            ImportState(document);
        }
        // NullReferenceException: a hand-edited document with null where an object is required.
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException or OverflowException or NullReferenceException)
        {
            ImportState(backup);
            throw ex as InvalidDataException ?? new InvalidDataException($"The monitor state is corrupt: {ex.Message}", ex);
        }

        _recovery?.ForgetSnapshots();
        _telemetry.Resume(document.Step);
    }

    internal AnalyzerStateDocument ExportState()
    {
        LossScalerState? scaler = _scaler?.Save();
        return new AnalyzerStateDocument
        {
            Step = StepCount,
            Layers = [.. _layerNames],
            PreviousStepSkipped = _previousStepSkipped,
            History = _history.SaveState(_layerNames),
            Detectors = _detectorsByName.ToDictionary(d => d.Name, d => d.Detector.SaveState(_layerNames)),
            Clipping = _clipping?.SaveState(),
            LossScaler = _scaler is null || scaler is not LossScalerState s ? null : new LossScalerDocument
            {
                Scale = s.Scale,
                GrowthFactor = _scaler.Scaling.GrowthFactor,
                BackoffFactor = _scaler.Scaling.BackoffFactor,
                GrowthInterval = _scaler.Scaling.GrowthInterval,
                GrowthTracker = s.CleanSteps,
            },
            Recovery = _recovery?.SaveState(),
            Report = _telemetry.History.SaveState(),
        };
    }

    private void CheckCompatible(AnalyzerStateDocument document)
    {
        for (int i = 0; i < Math.Max(document.Layers.Count, _layerNames.Length); i++)
        {
            string? saved = i < document.Layers.Count ? document.Layers[i] : null;
            string? mine = i < _layerNames.Length ? _layerNames[i] : null;
            if (saved != mine)
            {
                throw new InvalidDataException(
                    $"The monitor state was saved for a different model: its layer {i} is {Quoted(saved)}, this model's layer {i} is {Quoted(mine)}.");
            }
        }

        if (document.LossScaler is not null && _scaler is null)
        {
            throw new InvalidDataException(
                "The monitor state was saved with mixed precision (loss scaling), but this monitor has none: call EnableMixedPrecision before LoadState.");
        }

        if (document.LossScaler is null && _scaler is not null)
        {
            throw new InvalidDataException(
                "The monitor state was saved without mixed precision (loss scaling), but this monitor has it enabled: the saved run had no loss scale.");
        }

        if (document.Recovery is not null && _recovery is null)
        {
            throw new InvalidDataException("The monitor state was saved with recovery, but this monitor has none: call EnableRecovery before LoadState.");
        }

        if (document.Step < 0 || document.Step != document.History.Steps)
        {
            throw new InvalidDataException($"The monitor state is corrupt: its step {document.Step} and its history's {document.History.Steps} steps differ.");
        }
    }

    private void ImportState(AnalyzerStateDocument document)
    {
        _history.LoadState(document.History, _layerNames);
        foreach ((string name, IGradientDetector detector) in _detectorsByName)
        {
            // A detector enabled only now starts fresh; one saved but disabled now is ignored.
            if (document.Detectors.TryGetValue(name, out ComponentState? state))
            {
                detector.LoadState(state, _layerNames);
            }
        }

        if (document.Clipping is not null)
        {
            _clipping?.LoadState(document.Clipping);
        }

        if (document.LossScaler is LossScalerDocument scaler)
        {
            _scaler?.Restore(new LossScalerState(scaler.Scale, scaler.GrowthTracker));
        }

        if (document.Recovery is not null)
        {
            _recovery?.LoadState(document.Recovery);
        }

        // Last: it checks everything before it changes anything, so a failure here leaves it as it was.
        _telemetry.History.LoadState(document.Report);
        (StepCount, _previousStepSkipped) = (document.Step, document.PreviousStepSkipped);
    }

    private static string Quoted(string? name) => name is null ? "absent" : $"'{name}'";
}
