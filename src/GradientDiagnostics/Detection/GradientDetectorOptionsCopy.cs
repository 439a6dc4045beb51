namespace GradientDiagnostics;

/// <summary>Typed copies of detector options, taken at attach.</summary>
internal static class GradientDetectorOptionsCopy
{
    /// <summary>A copy of <paramref name="options"/> of its own type; see <see cref="GradientDetectorOptions.CopyOptions"/>.</summary>
    public static T Copy<T>(this T options)
        where T : GradientDetectorOptions => (T)options.CopyOptions();
}
