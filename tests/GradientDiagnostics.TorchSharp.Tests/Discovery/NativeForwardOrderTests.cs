using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>The layers inside TorchSharp's native Transformer modules come in forward order (index ascending towards the
/// loss), checked by name and against the native modules' own outputs.</summary>
public sealed class NativeForwardOrderTests
{
    [Fact]
    public void The_native_transformer_factories_take_no_norm_first_so_their_blocks_are_post_ln()
    {
        // libtorch's C++ layers have no pre-LN variant; TorchSharp's factories would have to expose one for the order to vary.
        string[] factories = ["TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"];
        MethodInfo[] methods = [.. typeof(nn).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => factories.Contains(m.Name))];

        Assert.Equal(factories.Order(), methods.Select(m => m.Name).Distinct().Order());
        Assert.All(methods, m => Assert.DoesNotContain(m.GetParameters(), p => p.Name!.Contains("norm", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void A_bare_encoder_layer_and_a_decoder_stack_list_their_layers_in_forward_order()
    {
        using var encoderLayer = nn.TransformerEncoderLayer(8, 2, 16);
        using var decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2);
        using var encoderMonitor = encoderLayer.AttachGradientMonitor();
        using var decoderMonitor = decoder.AttachGradientMonitor();

        Assert.Equal(["self_attn", "self_attn.out_proj", "norm1", "linear1", "linear2", "norm2"], encoderMonitor.LayerNames);
        string[] block = ["self_attn", "self_attn.out_proj", "norm1", "multihead_attn", "multihead_attn.out_proj", "norm2", "linear1", "linear2", "norm3"];
        Assert.Equal([.. block.Select(p => $"layers.0.{p}"), .. block.Select(p => $"layers.1.{p}")], decoderMonitor.LayerNames);
    }

    [Fact]
    public void The_encoder_layers_order_is_the_order_in_which_the_native_encoder_uses_them()
    {
        manual_seed(5);
        using var encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout: 0), 2);
        using var monitor = encoder.AttachGradientMonitor();
        using var scope = NewDisposeScope();
        Tensor src = randn(5, 3, 8);
        var replay = new Replay(encoder, heads: 2);

        Tensor expected = replay.Encoder(src, "");

        // The replay reproduces libtorch's output, so the order in which it reads the layers is the forward order.
        Assert.True(allclose(encoder.call(src, null!, null!), expected, rtol: 1e-4, atol: 1e-5));
        Assert.Equal(replay.Used, monitor.LayerNames);
    }

    [Fact]
    public void The_transformers_order_is_the_order_in_which_the_native_transformer_uses_them()
    {
        manual_seed(6);
        using var transformer = nn.Transformer(8, 2, 2, 2, 16, dropout: 0);
        using var monitor = transformer.AttachGradientMonitor();
        using var scope = NewDisposeScope();
        Tensor src = randn(5, 3, 8), tgt = randn(4, 3, 8);
        var replay = new Replay(transformer, heads: 2);

        Tensor memory = replay.Norm(replay.Encoder(src, "encoder."), "encoder.norm");
        Tensor expected = replay.Norm(replay.Decoder(tgt, memory, "decoder."), "decoder.norm");

        Assert.True(allclose(transformer.call(src, tgt), expected, rtol: 1e-4, atol: 1e-5));
        Assert.Equal(replay.Used, monitor.LayerNames);
        Assert.Equal(2 * 6 + 1 + (2 * 9) + 1, monitor.LayerNames.Count);
    }

    [Fact]
    public void A_sub_module_name_outside_the_tables_or_a_module_of_another_type_keeps_registration_order()
    {
        using var encoderLayer = nn.TransformerEncoderLayer(8, 2, 16);
        using var linear = nn.Linear(2, 2);
        List<string> known = ["linear1", "norm1", "self_attn"];
        List<string> unknown = ["linear1", "norm1", "gate", "self_attn"];

        Assert.Equal(["self_attn", "norm1", "linear1"], NativeForwardOrder.Sort(encoderLayer, known, g => g));
        Assert.Equal(unknown, NativeForwardOrder.Sort(encoderLayer, unknown, g => g));
        Assert.Equal(known, NativeForwardOrder.Sort(linear, known, g => g));
    }

    /// <summary>libtorch's post-LN blocks written out with functional ops over a native module's own parameters, noting each
    /// layer (parameter group) the first time it is read: the order a layer's output is computed in.</summary>
    private sealed class Replay(nn.Module module, int heads)
    {
        private readonly Dictionary<string, Tensor> _parameters = module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

        public List<string> Used { get; } = [];

        public Tensor Encoder(Tensor x, string prefix)
        {
            for (int i = 0; _parameters.ContainsKey($"{prefix}layers.{i}.norm1.weight"); i++)
            {
                string block = $"{prefix}layers.{i}.";
                x = Norm(x + Attention(x, x, block + "self_attn"), block + "norm1");
                x = Norm(x + FeedForward(x, block), block + "norm2");
            }

            return x;
        }

        public Tensor Decoder(Tensor x, Tensor memory, string prefix)
        {
            for (int i = 0; _parameters.ContainsKey($"{prefix}layers.{i}.norm1.weight"); i++)
            {
                string block = $"{prefix}layers.{i}.";
                x = Norm(x + Attention(x, x, block + "self_attn"), block + "norm1");
                x = Norm(x + Attention(x, memory, block + "multihead_attn"), block + "norm2");
                x = Norm(x + FeedForward(x, block), block + "norm3");
            }

            return x;
        }

        public Tensor Norm(Tensor x, string layer) => F.layer_norm(x, [x.shape[^1]], Read(layer, "weight"), Read(layer, "bias"));

        private Tensor FeedForward(Tensor x, string block) =>
            Linear(F.relu(Linear(x, block + "linear1")), block + "linear2");

        private Tensor Linear(Tensor x, string layer) => F.linear(x, Read(layer, "weight"), Read(layer, "bias"));

        // Scaled dot-product attention over [length, batch, d_model] inputs, heads side by side in d_model.
        private Tensor Attention(Tensor query, Tensor memory, string layer)
        {
            Tensor[] w = Read(layer, "in_proj_weight").chunk(3), b = Read(layer, "in_proj_bias").chunk(3);
            long d = query.shape[2], batch = query.shape[1], headDim = d / heads;
            Tensor Heads(Tensor t) => t.reshape(t.shape[0], batch * heads, headDim).transpose(0, 1);
            Tensor q = Heads(F.linear(query, w[0], b[0])) / Math.Sqrt(headDim);
            Tensor k = Heads(F.linear(memory, w[1], b[1])), v = Heads(F.linear(memory, w[2], b[2]));
            Tensor context = q.bmm(k.transpose(1, 2)).softmax(-1).bmm(v).transpose(0, 1).reshape(query.shape[0], batch, d);
            return Linear(context, layer + ".out_proj");
        }

        private Tensor Read(string layer, string parameter)
        {
            if (!Used.Contains(layer))
            {
                Used.Add(layer);
            }

            return _parameters[$"{layer}.{parameter}"];
        }
    }
}
