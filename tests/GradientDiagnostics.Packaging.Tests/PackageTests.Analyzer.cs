using System.IO.Compression;
using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Packaging.Tests;

/// <summary>The GD0001 analyzer travels inside GradientDiagnostics.TorchSharp and fires in a project that references only that package.</summary>
public sealed partial class PackageTests
{
    [Fact]
    public void Analyzer_and_code_fix_are_packed_under_analyzers_dotnet_cs()
    {
        using ZipArchive zip = ZipFile.OpenRead(Path.Combine(_packages.Folder, $"GradientDiagnostics.TorchSharp.{_packages.Version}.nupkg"));
        string[] analyzers = [.. zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("analyzers/", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        Assert.Equal(
            ["analyzers/dotnet/cs/GradientDiagnostics.TorchSharp.Analyzers.dll", "analyzers/dotnet/cs/GradientDiagnostics.TorchSharp.CodeFixes.dll"],
            analyzers);
    }

    [Fact]
    public void Analyzer_warns_GD0001_in_a_consumer_that_references_only_the_package()
    {
        string app = ConsumerFolder("analyzer-consumer");
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <NoWarn>NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GradientDiagnostics.TorchSharp" Version="{_packages.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Net.cs"), """
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            public sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc1 = nn.Linear(4, 8);
                private readonly Linear fc2 = nn.Linear(8, 1);

                public Net() : base(nameof(Net)) => RegisterComponents();

                public override Tensor forward(Tensor x) => fc2.call(nn.functional.relu(fc1.forward(x)));
            }
            """);

        (int exitCode, string output) = DotNet.Run(app, "build", "-c", "Release");

        Assert.True(exitCode == 0, output);
        Assert.Matches(ConsumerWarning(), output);
        Assert.DoesNotContain("fc2.forward", output, StringComparison.Ordinal);
        // The analyzer assembly loaded and ran without failing: no CS8032 (cannot load) and no AD0001 (it threw).
        Assert.DoesNotContain("CS8032", output, StringComparison.Ordinal);
        Assert.DoesNotContain("AD0001", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Net\.cs\(11,\d+\): warning GD0001: 'fc1\.forward\(\.\.\.\)' runs no forward hooks.*use 'fc1\.call\(\.\.\.\)'")]
    private static partial Regex ConsumerWarning();
}
