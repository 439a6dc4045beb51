using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using GradientDiagnostics.TorchSharp.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GradientDiagnostics.TorchSharp.CodeFixes;

/// <summary>Fixes GD0001 by rewriting <c>child.forward(...)</c> to <c>child.call(...)</c>, arguments untouched.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ChildModuleForwardCallCodeFixProvider))]
[Shared]
public sealed class ChildModuleForwardCallCodeFixProvider : CodeFixProvider
{
    private const string Title = "Use call(...) so that hooks and probes run";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.ChildModuleForwardCallId);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not IdentifierNameSyntax { Identifier.ValueText: "forward" } name)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => UseCallAsync(context.Document, root, name, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static Task<Document> UseCallAsync(Document document, SyntaxNode root, IdentifierNameSyntax name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IdentifierNameSyntax call = SyntaxFactory.IdentifierName("call").WithTriviaFrom(name);
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(name, call)));
    }
}
