namespace GradientDiagnostics;

/// <content>The detector's gates, saved with a checkpoint.</content>
internal sealed partial class ExplodingGradientDetector
{
    public ComponentState SaveState(IReadOnlyList<string> layerNames) =>
        new ComponentState().With("absolute", _absolute).With("relative", _relative).With("depth", _depth).With("spike", _spike);

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("absolute", _absolute);
        state.Load("relative", _relative);
        state.Load("depth", _depth);
        state.Load("spike", _spike);
    }
}
