using System.Text.RegularExpressions;
using static GradientDiagnostics.TorchSharp.Analyzers.Tests.Verifier;

namespace GradientDiagnostics.TorchSharp.Analyzers.Tests;

/// <summary>GD0001 on real TorchSharp module hierarchies: what it reports, what it leaves alone, and its code fix.</summary>
public sealed partial class ChildModuleForwardCallAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        """;

    [Fact]
    public async Task Child_forward_in_a_forward_override_is_reported_and_fixed_to_call()
    {
        const string body = """
            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc1 = nn.Linear(4, 8);
                private readonly Linear fc2 = nn.Linear(8, 1);

                public Net() : base(nameof(Net)) => RegisterComponents();

                public override Tensor forward(Tensor x) => fc2.{|#1:FORWARD|}(nn.functional.relu(fc1.{|#0:FORWARD|}(x)));
            }
            """;

        await VerifyCodeFixAsync(Source(body), Fixed(body), Diagnostic(0, "fc1"), Diagnostic(1, "fc2"));
    }

    [Fact]
    public async Task Modules_deriving_indirectly_from_Module_and_children_of_every_kind_are_reported()
    {
        const string body = """
            public abstract class Block : nn.Module<Tensor, Tensor>
            {
                protected Block(string name) : base(name) { }
            }

            public sealed class Net : Block
            {
                private readonly Sequential stem = nn.Sequential(nn.Linear(4, 4), nn.ReLU());
                private readonly ModuleList<nn.Module<Tensor, Tensor>> layers = new(nn.Linear(4, 4), nn.Tanh());
                private readonly Bilinear mix = nn.Bilinear(4, 4, 4);
                private readonly MultiheadAttention attention = nn.MultiheadAttention(4, 2);

                public Net() : base(nameof(Net)) => RegisterComponents();

                public override Tensor forward(Tensor x)
                {
                    x = this.stem.{|#0:FORWARD|}(x);
                    foreach (nn.Module<Tensor, Tensor> layer in layers)
                    {
                        x = layer.{|#1:FORWARD|}(x);
                    }

                    x = layers[0].{|#2:FORWARD|}(x);
                    x = mix.{|#3:FORWARD|}(x, x);
                    return attention.{|#4:FORWARD|}(x, x, x, null, false, null).Item1;
                }
            }

            public sealed class Residual<TInner> : nn.Module<Tensor, Tensor> where TInner : nn.Module<Tensor, Tensor>
            {
                private readonly TInner inner;

                public Residual(TInner inner) : base(nameof(Residual<TInner>))
                {
                    this.inner = inner;
                    RegisterComponents();
                }

                public override Tensor forward(Tensor x) => x + inner.{|#5:FORWARD|}(x);
            }
            """;

        await VerifyCodeFixAsync(
            Source(body),
            Fixed(body),
            Diagnostic(0, "this.stem"), Diagnostic(1, "layer"), Diagnostic(2, "layers[0]"), Diagnostic(3, "mix"), Diagnostic(4, "attention"), Diagnostic(5, "inner"));
    }

    [Fact]
    public async Task Conditional_access_and_lambdas_inside_forward_are_reported_and_fixed()
    {
        const string body = """
            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly Linear? head = nn.Linear(4, 4);
                private readonly Linear body = nn.Linear(4, 4);

                public Net() : base(nameof(Net)) => RegisterComponents();

                public override Tensor forward(Tensor x)
                {
                    Func<Tensor, Tensor> step = t => body.{|#0:FORWARD|}(t);
                    return head?.{|#1:FORWARD|}(step(x)) ?? Local(x);

                    Tensor Local(Tensor t) => body.{|#2:FORWARD|}(t);
                }
            }
            """;

        await VerifyCodeFixAsync(
            "#nullable enable\n" + Source(body),
            "#nullable enable\n" + Fixed(body),
            Diagnostic(0, "body"), Diagnostic(1, "head"), Diagnostic(2, "body"));
    }

    [Fact]
    public async Task Base_this_and_bare_forward_calls_are_not_reported()
    {
        await VerifyNoDiagnosticAsync(Usings + """
            public class Inner : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc = nn.Linear(4, 4);

                public Inner() : base(nameof(Inner)) => RegisterComponents();

                public override Tensor forward(Tensor x) => fc.call(x);

                public Tensor forward(Tensor x, bool twice) => twice ? forward(forward(x)) : this.forward(x);
            }

            public sealed class Outer : Inner
            {
                public override Tensor forward(Tensor x) => base.forward(x) + this.forward(x, twice: false) + forward(x, true)
                    + ((nn.Module<Tensor, Tensor>)this).call(x);
            }
            """);
    }

    [Fact]
    public async Task Forward_outside_a_forward_override_is_not_reported()
    {
        await VerifyNoDiagnosticAsync(Usings + """
            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc = nn.Linear(4, 4);

                public Net() : base(nameof(Net))
                {
                    RegisterComponents();
                    using var warmUp = fc.forward(zeros(1, 4));
                }

                public override Tensor forward(Tensor x) => fc.call(x);

                // An overload of forward, not an override: outside the rule's scope.
                public Tensor forward(Tensor x, int repeat) => fc.forward(x) * repeat;

                public Tensor Predict(Tensor x) => fc.forward(x);
            }

            public static class Program
            {
                public static Tensor Run(Net model, Tensor x) => model.forward(x) + nn.Linear(4, 4).forward(x);
            }
            """);
    }

    [Fact]
    public async Task Forward_on_types_that_are_not_TorchSharp_modules_is_not_reported()
    {
        await VerifyNoDiagnosticAsync(Usings + """
            namespace Lookalike
            {
                public abstract class Module
                {
                    public abstract Tensor forward(Tensor x);
                }

                public sealed class Scale : Module
                {
                    public override Tensor forward(Tensor x) => x * 2;

                    public Tensor call(Tensor x) => forward(x);
                }

                // A forward override in a class that is not a TorchSharp module.
                public sealed class Twice : Module
                {
                    private readonly Scale scale = new();
                    private readonly Linear fc = nn.Linear(4, 4);

                    public override Tensor forward(Tensor x) => scale.forward(fc.forward(x));
                }
            }

            // A real module whose forward calls forward on an object that is not a module.
            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly Lookalike.Scale scale = new();

                public Net() : base(nameof(Net)) => RegisterComponents();

                public override Tensor forward(Tensor x) => scale.forward(x);
            }
            """);
    }

    // Bodies mark each expected diagnostic as {|#n:FORWARD|}: the source has forward there, the fixed source has call.
    private static string Source(string body) => Usings + body.Replace("FORWARD", "forward", StringComparison.Ordinal);

    private static string Fixed(string body) => Usings + MarkedForward().Replace(body, "call");

    [GeneratedRegex(@"\{\|#\d+:FORWARD\|\}")]
    private static partial Regex MarkedForward();
}
