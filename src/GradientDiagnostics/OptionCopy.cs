using System.Reflection;

namespace GradientDiagnostics;

/// <summary>Copies options objects value by value, so options given to an attach method are copied before they are
/// adjusted or kept (later changes to the caller's object cannot reach a running monitor).</summary>
internal static class OptionCopy
{
    /// <summary>Copies every public settable property of <paramref name="source"/> onto <paramref name="target"/> (of the
    /// same type), and recurses into the get-only properties that hold nested option objects of this library.</summary>
    public static void Values(object source, object target)
    {
        foreach (PropertyInfo property in source.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            if (property.SetMethod is { IsPublic: true })
            {
                property.SetValue(target, property.GetValue(source));
            }
            else if (property.PropertyType.Name.EndsWith("Options", StringComparison.Ordinal) &&
                property.GetValue(source) is object nested && property.GetValue(target) is object nestedTarget)
            {
                Values(nested, nestedTarget);
            }
        }
    }
}
