namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>Exact comparison of an unbroken run with a resumed one: nothing approximate.</summary>
internal static class ResumeAssert
{
    public static void Identical(ResumeTraining.Log unbroken, ResumeTraining.Log resumed)
    {
        Assert.Equal(unbroken.Results.Count, resumed.Results.Count);
        for (int i = 0; i < unbroken.Results.Count; i++)
        {
            GradientStepResult a = unbroken.Results[i], b = resumed.Results[i];
            Assert.Equal(a.Step, b.Step);
            Assert.True(a.SkipStep == b.SkipStep, $"step {a.Step}: skip {a.SkipStep} unbroken, {b.SkipStep} resumed");
            Assert.True(a.GlobalNorm.Equals(b.GlobalNorm), $"step {a.Step}: global norm {a.GlobalNorm:R} unbroken, {b.GlobalNorm:R} resumed");
            Assert.True(a.ClippingCoefficient.Equals(b.ClippingCoefficient),
                $"step {a.Step}: clip coefficient {a.ClippingCoefficient:R} vs {b.ClippingCoefficient:R}");
            Assert.True(a.LossScale.Equals(b.LossScale), $"step {a.Step}: loss scale {a.LossScale:R} unbroken, {b.LossScale:R} resumed");
            Assert.Equal(a.RolledBackToStep, b.RolledBackToStep);
            Assert.Equal(Keys(a.Alerts), Keys(b.Alerts));
        }

        Assert.Equal(Keys(unbroken.Alerts), Keys(resumed.Alerts));
        Assert.Equal(unbroken.FinalWeights.Count, resumed.FinalWeights.Count);
        for (int i = 0; i < unbroken.FinalWeights.Count; i++)
        {
            Assert.Equal(Bits(unbroken.FinalWeights[i]), Bits(resumed.FinalWeights[i]));
        }
    }

    public static List<(GradientAlertKind Kind, string Layer, long Step)> Keys(IEnumerable<GradientAlert> alerts) =>
        [.. alerts.Select(a => (a.Kind, a.Layer, a.Step))];

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
