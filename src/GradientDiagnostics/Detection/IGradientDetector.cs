namespace GradientDiagnostics;

/// <summary>One detector: looks at a step's evidence and adds the alerts it decides to raise. Created at attach by its
/// options (<see cref="DetectorOptions.CreateDetector"/>) from a copy of them; the analyzer runs the list.</summary>
internal interface IGradientDetector
{
    /// <summary>Whether the detector reads <see cref="StepEvidence.Clipping"/>, so it runs after the clipping stage
    /// rather than before it.</summary>
    bool ReadsClipping => false;

    void Detect(StepEvidence evidence, List<GradientAlert> alerts);

    /// <summary>The detector's gates and windows, to save with a checkpoint (layer state under the layers' names).</summary>
    ComponentState SaveState(IReadOnlyList<string> layerNames);

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">An entry this detector keeps is missing or invalid.</exception>
    void LoadState(ComponentState state, IReadOnlyList<string> layerNames);
}
