namespace GradientDiagnostics.Tests.Initialization;

public sealed class BackwardGainScalingTests
{
    private static ScalingLayer Linear(int index, ActivationKind following, double rms, LayerScalingRole role = LayerScalingRole.Rescalable) =>
        new(new LayerDescriptor($"fc{index}") { FanIn = 100, FanOut = 100, FollowingActivation = following }, role, rms);

    [Fact]
    public void Analytic_start_brings_each_known_layer_to_its_he_or_xavier_scale_and_leaves_unknown_ones()
    {
        double he = Math.Sqrt(2.0 / 100), xavier = Math.Sqrt(2.0 / 200);
        var scaling = new BackwardGainScaling([Linear(0, ActivationKind.ReLU, he / 2), Linear(1, ActivationKind.Tanh, xavier * 3), Linear(2, ActivationKind.Unknown, 0.01)]);

        double[] factors = scaling.AnalyticStart();

        Assert.Equal(2, factors[0], 12);
        Assert.Equal(1.0 / 3, factors[1], 12);
        Assert.Equal(1, factors[2]);
        Assert.Equal("He", scaling.AnalyticScheme(0));
        Assert.Null(scaling.AnalyticScheme(2));
    }

    [Fact]
    public void A_round_scales_each_layer_by_the_ratio_of_its_output_gradient_to_the_previous_layers()
    {
        double he = Math.Sqrt(2.0 / 100);
        var scaling = new BackwardGainScaling([.. Enumerable.Range(0, 4).Select(i => Linear(i, ActivationKind.ReLU, he))]);
        scaling.AnalyticStart();

        // The signal doubles per layer towards the input (exploding): each later layer's weight is halved.
        double[] factors = scaling.Correct([8.0, 4.0, 2.0, 1.0]);

        Assert.Equal([1, 0.5, 0.5, 0.5], factors);
        Assert.False(scaling.Converged);
        scaling.Correct([1.0, 1.0, 1.0, 1.0]);
        Assert.True(scaling.Converged);
    }

    [Fact]
    public void Unprobed_layers_share_the_ratio_across_their_gap_and_normalization_layers_are_never_scaled()
    {
        double he = Math.Sqrt(2.0 / 100);
        var scaling = new BackwardGainScaling(
        [
            Linear(0, ActivationKind.ReLU, he), Linear(1, ActivationKind.ReLU, he), Linear(2, ActivationKind.ReLU, he),
            Linear(3, ActivationKind.ReLU, he, LayerScalingRole.Normalization), Linear(4, ActivationKind.ReLU, he),
        ]);

        double[] factors = scaling.Correct([1.0, null, 4.0, 1.0, 2.0]);

        Assert.Equal(2, factors[1], 12); // √4 each for fc1 and fc2
        Assert.Equal(2, factors[2], 12);
        Assert.Equal(1, factors[3]);     // normalization
        Assert.Equal(2, factors[4], 12);
    }

    [Fact]
    public void A_sigmoid_net_is_held_at_twice_the_xavier_scale_and_reported_as_limited_by_its_activation()
    {
        double xavier = Math.Sqrt(2.0 / 200);
        var scaling = new BackwardGainScaling([.. Enumerable.Range(0, 5).Select(i => Linear(i, ActivationKind.Sigmoid, xavier))]);
        scaling.AnalyticStart();
        double?[] vanishing = [1.0 / 256, 1.0 / 64, 1.0 / 16, 1.0 / 4, 1.0];
        for (int round = 0; round < 5; round++)
        {
            scaling.Correct(vanishing);
        }

        Assert.All(Enumerable.Range(1, 4), i => Assert.Equal(BackwardGainScaling.MaxOverAnalytic, scaling.TotalFactors[i], 12));
        Assert.True(scaling.IsPinnedHigh(1));
        Assert.True(scaling.Converged); // nothing left that can move

        GradientFlowInitializationResult result = InitializationReport.Build(scaling, 0.25, 0.41, 5, []);
        Assert.True(result.LimitedByActivation);
        Assert.Contains("sigmoid", result.Message, StringComparison.Ordinal);
        Assert.Contains("held at the largest scale applied", result.Layers[1].Reason, StringComparison.Ordinal);
        Assert.False(InitializationReport.Build(scaling, 0.25, 0.95, 5, []).LimitedByActivation);
    }

    [Fact]
    public void Non_finite_or_zero_norms_break_the_chain_instead_of_producing_a_non_finite_factor()
    {
        double he = Math.Sqrt(2.0 / 100);
        var scaling = new BackwardGainScaling([.. Enumerable.Range(0, 4).Select(i => Linear(i, ActivationKind.ReLU, he))]);

        double[] factors = scaling.Correct([1.0, double.NaN, 0.0, 1.0]);

        Assert.Equal([1, 1, 1, 1], factors);
        Assert.All(scaling.TotalFactors, f => Assert.True(double.IsFinite(f)));
    }
}
