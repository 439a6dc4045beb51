namespace GradientDiagnostics.Tests.Clipping;

/// <summary>Drives an analyzer with a clipping policy over plain arrays, as an adapter would.</summary>
internal sealed class ClippingHarness
{
    public ClippingHarness(GradientClipping policy, params ArrayClippingTarget.Parameter[][] layers)
        : this(o => o.Clipping = policy, layers)
    {
    }

    public ClippingHarness(Action<GradientMonitorOptions> configure, params ArrayClippingTarget.Parameter[][] layers)
    {
        Target = new ArrayClippingTarget(layers);
        var options = new GradientMonitorOptions();
        options.Vanishing.Enabled = false;
        options.Exploding.Enabled = false;
        configure(options);
        Analyzer = new GradientAnalyzer([.. Enumerable.Range(0, layers.Length).Select(i => $"layer{i}")], options);
    }

    public ArrayClippingTarget Target { get; }

    public GradientAnalyzer Analyzer { get; }

    /// <summary>One layer with one 1-D parameter holding <paramref name="gradient"/>.</summary>
    public static ArrayClippingTarget.Parameter[] Layer(params float[] gradient) => [Vector(gradient)];

    public static ArrayClippingTarget.Parameter Vector(float[] gradient, float[]? weight = null) => new(gradient, weight ?? new float[gradient.Length], 1);

    public float[] Gradient(int layer, int parameter = 0) => Target.Layers[layer][parameter].Gradient;

    public GradientStepResult Step(double? loss = null) => Analyzer.Analyze(Target.Observe(), loss, Target);

    /// <summary>Sets new gradient values (same shapes) and runs a step.</summary>
    public GradientStepResult Step(params float[][] gradients)
    {
        for (int i = 0; i < gradients.Length; i++)
        {
            gradients[i].CopyTo(Target.Layers[i][0].Gradient, 0);
        }

        return Step();
    }
}
