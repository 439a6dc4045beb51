namespace GradientDiagnostics;

/// <summary>The classic causes and fixes of each gradient pathology, appended to alert messages.</summary>
internal static class Diagnosis
{
    public const string Vanishing =
        "Likely causes: saturating activations (sigmoid/tanh), too small an init scale, or depth without normalization or residual paths. " +
        "Fixes: ReLU/GELU activations; Xavier init for tanh/sigmoid, He init for ReLU; residual connections; BatchNorm/LayerNorm.";

    public const string Exploding =
        "Likely causes: too large an init scale or learning rate, or a recurrent/deep path whose per-layer gain exceeds 1. " +
        "Fixes: gradient clipping (GradientClipping.ByGlobalNorm), a smaller learning rate, Xavier/He init, normalization layers.";

    public const string NonFinite =
        "The step must not be applied. Likely causes: a learning rate too high, an overflow (log/exp/division by ~0) in the loss, or bad input data. " +
        "Fixes: skip the step (on by default), lower the learning rate, clip gradients, check the data and the loss for log(0) or division by zero.";
}
