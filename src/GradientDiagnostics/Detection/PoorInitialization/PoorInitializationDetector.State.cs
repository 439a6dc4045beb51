namespace GradientDiagnostics;

/// <content>The detector's gates and what it judged already, saved with a checkpoint.</content>
internal sealed partial class PoorInitializationDetector
{
    public ComponentState SaveState(IReadOnlyList<string> layerNames) => new ComponentState()
        .With("variance", _variance).With("weights", _weights).With("varianceJudged", _varianceJudged).With("weightsJudged", _weightsJudged);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("variance", _variance);
        state.Load("weights", _weights);
        (_varianceJudged, _weightsJudged) = (state.FlagOf("varianceJudged"), state.FlagOf("weightsJudged"));
    }
}
