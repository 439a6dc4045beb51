using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>Finds a model's layers: the groups of trainable parameters that share an innermost module path, in
/// registration order, and inside TorchSharp's native Transformer modules in forward order.</summary>
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
    /// <remarks>A native composite module (<c>nn.TransformerEncoder</c>, <c>MultiheadAttention</c>, …) has no managed
    /// children, but its own <c>named_parameters(recurse: false)</c> still carries libtorch's dotted names
    /// (<c>layers.1.self_attn.in_proj_weight</c>). Its parameters are grouped by everything before the last dot, so
    /// <c>layers.1.self_attn</c>, <c>layers.1.self_attn.out_proj</c>, <c>layers.1.linear1</c> … each become a layer. libtorch
    /// lists them in registration order (a block's norms last); <see cref="NativeForwardOrder"/> puts the Transformer
    /// modules' layers in forward order.</remarks>
    public static ModuleLayer[] Discover(torch.nn.Module root)
    {
        var layers = new List<ModuleLayer>();
        var seen = new HashSet<IntPtr>();
        Visit(root, string.Empty, ActivationKind.Unknown, layers, seen);
        return [.. layers];
    }

    /// <summary>
    /// The native tensor behind a parameter wrapper. TorchSharp hands out a new wrapper (a new <c>Handle</c>, an
    /// <c>at::Tensor*</c>) each time some modules' weights are read, e.g. <c>Embedding.weight</c>, so tying
    /// <c>linear.weight = embedding.weight</c> leaves two wrappers of one tensor. An <c>at::Tensor</c> is a single
    /// intrusive pointer to its <c>TensorImpl</c>; reading it gives an identity that holds across wrappers and devices.
    /// </summary>
    internal static IntPtr TensorIdentity(torch.Tensor parameter) => System.Runtime.InteropServices.Marshal.ReadIntPtr(parameter.Handle);

    // following: the activation applied to this module's output, as known from its parent.
    private static void Visit(torch.nn.Module module, string path, ActivationKind following, List<ModuleLayer> layers, HashSet<IntPtr> seen)
    {
        var groups = new List<(string Prefix, List<(string Name, Parameter Parameter)> Parameters)>();
        foreach ((string name, Parameter parameter) in module.named_parameters(recurse: false))
        {
            if (!parameter.requires_grad || !seen.Add(TensorIdentity(parameter)))
            {
                continue;
            }

            int dot = name.LastIndexOf('.');
            string prefix = dot < 0 ? string.Empty : name[..dot];
            int g = groups.FindIndex(x => x.Prefix == prefix);
            if (g < 0)
            {
                groups.Add((prefix, []));
                g = groups.Count - 1;
            }

            groups[g].Parameters.Add((dot < 0 ? name : name[(dot + 1)..], parameter));
        }

        if (groups.Count == 0)
        {
            // No trainable parameters of its own: not a layer.
        }
        else if (groups.Count == 1 && groups[0].Prefix.Length == 0)
        {
            var descriptor = LayerShape.Describe(path.Length == 0 ? RootLayerName : path, module) with { FollowingActivation = following };
            layers.Add(new ModuleLayer(descriptor, module, [.. groups[0].Parameters.Select(p => p.Parameter)]));
        }
        else
        {
            AddNativeLayers(module, path, following, NativeForwardOrder.Sort(module, groups, g => g.Prefix), layers);
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
            Visit(children[i].Module, Join(path, children[i].Name), next, layers, seen);
        }
    }

    /// <summary>One layer per dotted-name group of a native composite module, in the order given. The composite's output
    /// is its last group's output in forward order (<c>out_proj</c> of <c>MultiheadAttention</c>, the last <c>norm</c> of a Transformer stack), so only
    /// that layer can be observed by a hook on the module, and only it inherits the activation that follows the module.</summary>
    private static void AddNativeLayers(torch.nn.Module module, string path, ActivationKind following,
        List<(string Prefix, List<(string Name, Parameter Parameter)> Parameters)> groups, List<ModuleLayer> layers)
    {
        string owner = path.Length == 0 ? RootLayerName : path;
        for (int g = 0; g < groups.Count; g++)
        {
            bool last = g == groups.Count - 1;
            string name = groups[g].Prefix.Length == 0 ? owner : path.Length == 0 ? groups[g].Prefix : $"{path}.{groups[g].Prefix}";
            Parameter? weight = groups[g].Parameters.FirstOrDefault(p => p.Name.EndsWith("weight", StringComparison.Ordinal)).Parameter;
            var descriptor = LayerShape.DescribeWeight(name, weight) with { FollowingActivation = last ? following : ActivationKind.Unknown };
            layers.Add(new ModuleLayer(descriptor, module, [.. groups[g].Parameters.Select(p => p.Parameter)],
                ownsModuleOutput: last) { NativeOwnerPath = owner });
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
