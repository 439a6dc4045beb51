namespace GradientDiagnostics;

/// <summary>Policies run in order, each on the gradients the previous one left (<see cref="GradientClipping.Then"/>).</summary>
internal sealed class ClippingChain(GradientClipping[] policies) : GradientClipping
{
    public IReadOnlyList<GradientClipping> Policies => policies;

    /// <summary>The norm type of the first policy that clips a global norm: the one whose pre-clip total is reported.</summary>
    internal override double? GlobalNormType => policies.Select(p => p.GlobalNormType).FirstOrDefault(t => t is not null);

    internal override double? GlobalNormThreshold => policies.Select(p => p.GlobalNormThreshold).FirstOrDefault(t => t is not null);

    internal override bool SkipsNonFiniteSteps => policies.Any(p => p.SkipsNonFiniteSteps);

    internal override IClippingPolicy Bind(IReadOnlyList<string> layerNames) => new Policy([.. policies.Select(p => p.Bind(layerNames))]);

    /// <summary>The bound policies of the chain, run in order.</summary>
    private sealed class Policy(IClippingPolicy[] policies) : IClippingPolicy
    {
        public void Apply(ClippingContext context)
        {
            foreach (IClippingPolicy policy in policies)
            {
                policy.Apply(context);
            }
        }

        public ComponentState SaveState() => new() { Parts = [.. policies.Select(p => p.SaveState())] };

        public void LoadState(ComponentState state)
        {
            if (state.Parts?.Count != policies.Length)
            {
                throw new InvalidDataException($"The saved clipping chain has {state.Parts?.Count ?? 0} policies; this monitor's has {policies.Length}.");
            }

            for (int i = 0; i < policies.Length; i++)
            {
                policies[i].LoadState(state.Parts[i]);
            }
        }
    }
}
