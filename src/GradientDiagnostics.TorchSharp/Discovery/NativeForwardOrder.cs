using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The forward order of the layers inside TorchSharp's native Transformer modules, whose parameters libtorch lists in
/// registration order (inside a block: attention, feed-forward, then the norms), not in the order it applies them.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 builds these modules from libtorch's C++ <c>torch::nn</c> implementations
/// (<c>TransformerEncoderLayerImpl</c>, <c>TransformerDecoderLayerImpl</c>, <c>TransformerEncoderImpl</c>,
/// <c>TransformerDecoderImpl</c>, <c>TransformerImpl</c>, <c>MultiheadAttentionImpl</c>). Their factories take no
/// <c>norm_first</c>, and the C++ layers' <c>forward</c> is post-LN, so the order is fixed:
/// <list type="bullet">
/// <item>encoder layer: <c>self_attn</c> (in-projection), <c>self_attn.out_proj</c>, <c>norm1</c>, <c>linear1</c>,
/// <c>linear2</c>, <c>norm2</c>;</item>
/// <item>decoder layer: <c>self_attn</c>, <c>self_attn.out_proj</c>, <c>norm1</c>, <c>multihead_attn</c>,
/// <c>multihead_attn.out_proj</c>, <c>norm2</c>, <c>linear1</c>, <c>linear2</c>, <c>norm3</c>;</item>
/// <item>encoder / decoder: <c>layers.0.*</c>, <c>layers.1.*</c>, …, then <c>norm</c>;</item>
/// <item><c>Transformer</c>: <c>encoder.*</c>, then <c>decoder.*</c>;</item>
/// <item><c>MultiheadAttention</c>: its own parameters (the in-projection), then <c>out_proj</c>.</item>
/// </list>
/// A module of another type, or one with a sub-module name outside these tables, keeps registration order: where an
/// unknown sub-layer runs cannot be told from its name. The order is checked against the native modules' outputs
/// (docs/torchsharp.md).
/// </remarks>
internal static class NativeForwardOrder
{
    private static readonly string[] EncoderLayer = ["self_attn", "self_attn.out_proj", "norm1", "linear1", "linear2", "norm2"];
    private static readonly string[] DecoderLayer = ["self_attn", "self_attn.out_proj", "norm1", "multihead_attn", "multihead_attn.out_proj", "norm2",
        "linear1", "linear2", "norm3"];
    private static readonly string[] Attention = ["", "out_proj"];

    /// <summary>The groups of a native module's parameters in forward order: sorted when every group's sub-module name
    /// is in the module type's table, otherwise as given (registration order).</summary>
    /// <param name="module">The native module that owns the parameters.</param>
    /// <param name="groups">The groups in registration order.</param>
    /// <param name="prefix">A group's sub-module name relative to <paramref name="module"/> (<c>layers.1.linear1</c>; empty
    /// for the module's own parameters).</param>
    public static List<T> Sort<T>(torch.nn.Module module, List<T> groups, Func<T, string> prefix)
    {
        var keys = new (int Stage, int Block, int Part)[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            (int, int, int)? key = Key(module, prefix(groups[g]));
            if (key is null)
            {
                return groups;
            }

            keys[g] = key.Value;
        }

        // OrderBy is stable: groups with equal keys (none in the tables) keep registration order.
        return [.. Enumerable.Range(0, groups.Count).OrderBy(g => keys[g]).Select(g => groups[g])];
    }

    private static (int Stage, int Block, int Part)? Key(torch.nn.Module module, string prefix) => module switch
    {
        TransformerEncoderLayer => Block(EncoderLayer, prefix) is int part ? (0, 0, part) : null,
        TransformerDecoderLayer => Block(DecoderLayer, prefix) is int part ? (0, 0, part) : null,
        TransformerEncoder => Stack(EncoderLayer, prefix) is (int block, int part) ? (0, block, part) : null,
        TransformerDecoder => Stack(DecoderLayer, prefix) is (int block, int part) ? (0, block, part) : null,
        Transformer => TransformerKey(prefix),
        MultiheadAttention => Block(Attention, prefix) is int part ? (0, 0, part) : null,
        _ => null,
    };

    // The encoder runs before the decoder (libtorch's TransformerImpl::forward feeds the encoder's output, the memory, to it).
    private static (int Stage, int Block, int Part)? TransformerKey(string prefix)
    {
        const string encoder = "encoder.", decoder = "decoder.";
        if (prefix.StartsWith(encoder, StringComparison.Ordinal) && Stack(EncoderLayer, prefix[encoder.Length..]) is (int eb, int ep))
        {
            return (0, eb, ep);
        }

        return prefix.StartsWith(decoder, StringComparison.Ordinal) && Stack(DecoderLayer, prefix[decoder.Length..]) is (int db, int dp)
            ? (1, db, dp)
            : null;
    }

    private static int? Block(string[] table, string name)
    {
        int part = Array.IndexOf(table, name);
        return part < 0 ? null : part;
    }

    // layers.{i}.{part} in block i; the stack's final norm after every block.
    private static (int Block, int Part)? Stack(string[] table, string name)
    {
        const string layers = "layers.";
        if (name == "norm")
        {
            return (int.MaxValue, 0);
        }

        if (!name.StartsWith(layers, StringComparison.Ordinal))
        {
            return null;
        }

        int dot = name.IndexOf('.', layers.Length);
        return dot > layers.Length
            && int.TryParse(name.AsSpan(layers.Length, dot - layers.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int block)
            && Block(table, name[(dot + 1)..]) is int part
            ? (block, part)
            : null;
    }
}
