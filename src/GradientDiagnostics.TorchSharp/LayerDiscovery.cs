using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Finds a model's layers: the modules that own trainable parameters, in registration order.</summary>
internal static class LayerDiscovery
{
    /// <summary>The name of the root module's own parameters' layer, when the root owns parameters directly.</summary>
    public const string RootLayerName = "(root)";

    /// <summary>
    /// Walks the module tree depth-first in registration order (the order children were registered, which for
    /// <c>Sequential</c> and idiomatic custom modules is forward order). TorchSharp's <c>named_modules()</c> lists all
    /// children before any grandchild, so it is not used. A parameter shared by several modules (tied weights) is
    /// counted once, in the first module that owns it; frozen parameters (requires_grad = false) are left out.
    /// </summary>
    public static ModuleLayer[] Discover(torch.nn.Module root)
    {
        var layers = new List<ModuleLayer>();
        var seen = new HashSet<IntPtr>();
        Visit(root, string.Empty, ActivationKind.Unknown, layers, seen);
        return [.. layers];
    }

    // following: the activation applied to this module's output, as known from its parent.
    /// <summary>
    /// The native tensor behind a parameter wrapper. TorchSharp hands out a new wrapper (a new <c>Handle</c>, an
    /// <c>at::Tensor*</c>) each time some modules' weights are read, e.g. <c>Embedding.weight</c>, so tying
    /// <c>linear.weight = embedding.weight</c> leaves two wrappers of one tensor. An <c>at::Tensor</c> is a single
    /// intrusive pointer to its <c>TensorImpl</c>; reading it gives an identity that holds across wrappers and devices.
    /// </summary>
    private static IntPtr TensorIdentity(Parameter parameter) => System.Runtime.InteropServices.Marshal.ReadIntPtr(parameter.Handle);

    private static void Visit(torch.nn.Module module, string path, ActivationKind following, List<ModuleLayer> layers, HashSet<IntPtr> seen)
    {
        var own = new List<Parameter>();
        foreach ((string _, Parameter parameter) in module.named_parameters(recurse: false))
        {
            if (parameter.requires_grad && seen.Add(TensorIdentity(parameter)))
            {
                own.Add(parameter);
            }
        }

        if (own.Count > 0)
        {
            var descriptor = LayerShape.Describe(path.Length == 0 ? RootLayerName : path, module) with { FollowingActivation = following };
            layers.Add(new ModuleLayer(descriptor, module, [.. own]));
        }

        (string Name, torch.nn.Module Module)[] children = [.. module.named_children()];
        for (int i = 0; i < children.Length; i++)
        {
            // The next sibling is taken as the module applied to this child's output: true for Sequential and for the
            // usual custom block (linear, act) registered in forward order. The last child of a Sequential feeds
            // whatever follows the Sequential itself.
            ActivationKind next = i + 1 < children.Length
                ? ActivationModules.KindOfNext(children, i + 1)
                : module is Sequential ? following : ActivationKind.Unknown;
            Visit(children[i].Module, path.Length == 0 ? children[i].Name : $"{path}.{children[i].Name}", next, layers, seen);
        }
    }
}
