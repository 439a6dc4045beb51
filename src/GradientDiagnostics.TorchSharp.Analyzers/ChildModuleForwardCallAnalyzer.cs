using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace GradientDiagnostics.TorchSharp.Analyzers;

/// <summary>
/// Reports GD0001: <c>child.forward(...)</c> on a TorchSharp module, inside the <c>forward</c> override of a class that
/// derives (directly or not) from <c>TorchSharp.torch.nn.Module</c>, where the child has a <c>call</c> method taking the
/// same arguments. <c>base.forward</c>, <c>this.forward</c> and calls outside a <c>forward</c> override are not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ChildModuleForwardCallAnalyzer : DiagnosticAnalyzer
{
    private const string ForwardMethodName = "forward";
    private const string CallMethodName = "call";
    private const string ModuleMetadataName = "TorchSharp.torch+nn+Module";
    private const string TorchSharpAssemblyName = "TorchSharp";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ChildModuleForwardCall);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            // Symbols, not text: only TorchSharp's own Module counts, and a compilation without TorchSharp costs nothing.
            INamedTypeSymbol? module = start.Compilation.GetTypeByMetadataName(ModuleMetadataName);
            if (module is null || module.ContainingAssembly.Name != TorchSharpAssemblyName)
            {
                return;
            }

            start.RegisterOperationAction(c => AnalyzeInvocation(c, module), OperationKind.Invocation);
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol module)
    {
        var invocation = (IInvocationOperation)context.Operation;
        IMethodSymbol target = invocation.TargetMethod;
        if (target.Name != ForwardMethodName || target.IsStatic || invocation.Instance is null)
        {
            return;
        }

        // this.forward(...), base.forward(...) and a bare forward(...) call the module itself, not a child.
        IOperation receiver = WithoutConversions(invocation.Instance);
        if (receiver is IInstanceReferenceOperation || receiver.Type is null)
        {
            return;
        }

        if (!DerivesFrom(target.ContainingType, module) || !IsInsideModuleForwardOverride(context.ContainingSymbol, module))
        {
            return;
        }

        // Only where the fix is valid: a call(...) that takes exactly what forward(...) took.
        if (!HasMatchingCall(receiver.Type, target))
        {
            return;
        }

        if (invocation.Syntax is not InvocationExpressionSyntax { Expression: var callee })
        {
            return;
        }

        (SyntaxNode name, string receiverText) = callee switch
        {
            MemberAccessExpressionSyntax access => ((SyntaxNode)access.Name, access.Expression.ToString()),
            MemberBindingExpressionSyntax binding => (binding.Name, receiver.Syntax.ToString()),
            _ => (callee, receiver.Syntax.ToString()),
        };
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ChildModuleForwardCall, name.GetLocation(), receiverText));
    }

    private static IOperation WithoutConversions(IOperation operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    private static bool IsInsideModuleForwardOverride(ISymbol? symbol, INamedTypeSymbol module)
    {
        // Lambdas and local functions inside forward belong to it.
        while (symbol is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction })
        {
            symbol = symbol.ContainingSymbol;
        }

        return symbol is IMethodSymbol { Name: ForwardMethodName, IsOverride: true } method
            && DerivesFrom(method.ContainingType, module);
    }

    private static bool DerivesFrom(INamedTypeSymbol? type, INamedTypeSymbol baseType)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, baseType))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasMatchingCall(ITypeSymbol receiverType, IMethodSymbol forward)
    {
        // A generic child (T where T : Module<Tensor, Tensor>) offers the call of its constraints.
        IEnumerable<ITypeSymbol> candidates = receiverType is ITypeParameterSymbol parameter ? parameter.ConstraintTypes : [receiverType];
        foreach (ITypeSymbol candidate in candidates)
        {
            for (ITypeSymbol? type = candidate; type is not null; type = type.BaseType)
            {
                foreach (ISymbol member in type.GetMembers(CallMethodName))
                {
                    if (member is IMethodSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public } call
                        && SameParameterTypes(call, forward))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static bool SameParameterTypes(IMethodSymbol call, IMethodSymbol forward)
    {
        if (call.Parameters.Length != forward.Parameters.Length)
        {
            return false;
        }

        for (int i = 0; i < call.Parameters.Length; i++)
        {
            if (!SymbolEqualityComparer.Default.Equals(call.Parameters[i].Type, forward.Parameters[i].Type))
            {
                return false;
            }
        }

        return true;
    }
}
