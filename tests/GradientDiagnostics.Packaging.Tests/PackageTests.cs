using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Packaging.Tests;

/// <summary>
/// Packs the two packages into a throwaway folder and proves what a user gets: symbols, exactly the declared
/// dependencies, and a quick start (the README's, verbatim) that builds and runs against the packages, not the projects.
/// </summary>
public sealed partial class PackageTests : IClassFixture<PackageTests.PackedPackages>
{
    private readonly PackedPackages _packages;

    public PackageTests(PackedPackages packages) => _packages = packages;

    [Theory]
    [InlineData("GradientDiagnostics")]
    [InlineData("GradientDiagnostics.TorchSharp")]
    public void Package_and_symbol_package_are_produced_with_readme_and_docs(string id)
    {
        string package = Path.Combine(_packages.Folder, $"{id}.{_packages.Version}.nupkg");
        Assert.True(File.Exists(package), _packages.PackOutput);
        Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")));
        using ZipArchive zip = ZipFile.OpenRead(package);
        Assert.Contains(zip.Entries, e => e.FullName == "README.md");
        Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.xml");
        XElement metadata = Nuspec(zip).Root!.Elements().First(e => e.Name.LocalName == "metadata");
        Assert.Equal("MIT", metadata.Elements().First(e => e.Name.LocalName == "license").Value);
        Assert.NotEmpty(metadata.Elements().First(e => e.Name.LocalName == "tags").Value);
        Assert.NotNull(metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "repository"));
    }

    [Theory]
    [InlineData("GradientDiagnostics", "Microsoft.Extensions.Logging.Abstractions,System.Numerics.Tensors")]
    [InlineData("GradientDiagnostics.TorchSharp", "GradientDiagnostics,TorchSharp")]
    public void Declared_dependencies_are_exactly_the_designed_ones(string id, string expected)
    {
        using ZipArchive zip = ZipFile.OpenRead(Path.Combine(_packages.Folder, $"{id}.{_packages.Version}.nupkg"));
        string[] dependencies = [.. Nuspec(zip).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Distinct().Order(StringComparer.Ordinal)];

        Assert.Equal(expected.Split(','), dependencies);
    }

    [Fact]
    public void Readme_quick_start_builds_and_runs_against_the_packages()
    {
        string app = ConsumerFolder("quickstart");
        // The README shows the file-based quick start; in a project the packages come from the PackageReferences
        // below instead of its #: directives, which only file-based programs accept.
        File.WriteAllText(Path.Combine(app, "Program.cs"), string.Join('\n', ReadmeQuickStart().Split('\n').Where(l => !l.StartsWith("#:", StringComparison.Ordinal))));
        File.WriteAllText(Path.Combine(app, "QuickStart.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <LibTorchSharpCompat>true</LibTorchSharpCompat>
                <NoWarn>NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GradientDiagnostics.TorchSharp" Version="{_packages.Version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                <PackageReference Include="Microsoft.Extensions.Logging.Console" Version="10.0.0" />
              </ItemGroup>
              <Import Project="{Path.Combine(RepositoryRoot.Path, "build", "LibTorchSharpCompat.targets")}" />
            </Project>
            """);

        (int exitCode, string output) = DotNet.Run(app, "run", "-c", "Release");

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"step 99: global norm \d", output);
    }

    [Fact]
    public void Readme_quick_start_is_samples_quickstart_cs_verbatim()
    {
        string file = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "quickstart.cs"));

        Assert.Equal(file, ReadmeQuickStart());
    }

    [Fact]
    public void Quickstart_cs_runs_as_a_file_based_app_against_the_packages()
    {
        string app = ConsumerFolder("quickstart-file");
        string source = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "quickstart.cs"));
        Match directive = PackageDirective().Match(source);
        Assert.True(directive.Success, "samples/quickstart.cs has no `#:package GradientDiagnostics.TorchSharp@<version>` line.");
        File.WriteAllText(Path.Combine(app, "quickstart.cs"), PackageDirective().Replace(source, $"${{prefix}}{_packages.Version}"));

        // What a user on Debian 12 / Ubuntu 22.04 would add beside the file (docs/troubleshooting.md): the repository's
        // LibTorchSharpCompat fix, applied to the app's build output. Hosts with a newer libstdc++ are left untouched.
        File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project><PropertyGroup><LibTorchSharpCompat>true</LibTorchSharpCompat></PropertyGroup></Project>");
        File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), $"""<Project><Import Project="{Path.Combine(RepositoryRoot.Path, "build", "LibTorchSharpCompat.targets")}" /></Project>""");

        (int exitCode, string output) = DotNet.Run(app, "run", "quickstart.cs");

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"step 99: global norm \d", output);
        Assert.Matches(@"\[1000\] Vanishing", output);
        Assert.Matches(@"[1-9]\d* alerts; report: ", output);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(app, "quickstart-report.html")), StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\bwarning\s*[A-Z]*\d*\s*:", output);
    }

    [GeneratedRegex(@"(?<prefix>^#:package GradientDiagnostics\.TorchSharp@)\S+", RegexOptions.Multiline)]
    private static partial Regex PackageDirective();

    private static XDocument Nuspec(ZipArchive zip)
    {
        using Stream stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }

    /// <summary>A new consumer project folder whose nuget.config adds only the folder of packed packages: everything else
    /// comes from the SDK's default source (no &lt;clear/&gt;), so the file names no registry.</summary>
    private string ConsumerFolder(string name)
    {
        string app = Path.Combine(_packages.Root, name);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <add key="local" value="{_packages.Folder}" />
              </packageSources>
            </configuration>
            """);
        return app;
    }

    private static string ReadmeQuickStart()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        Match block = QuickStartBlock().Match(readme);
        Assert.True(block.Success, "README.md has no ```csharp block after the '## Quick start' heading.");
        return block.Groups["code"].Value;
    }

    [GeneratedRegex(@"## Quick start.*?```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex QuickStartBlock();

    /// <summary>Packs both packages once, with a unique version so no NuGet cache can serve a stale copy.</summary>
    public sealed class PackedPackages : IDisposable
    {
        public PackedPackages()
        {
            Root = Path.Combine(Path.GetTempPath(), $"gd-packaging-{Guid.NewGuid():N}");
            Folder = Path.Combine(Root, "packages");
            Version = $"0.0.0-smoke.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
            var output = new System.Text.StringBuilder();
            foreach (string project in new[] { "src/GradientDiagnostics", "src/GradientDiagnostics.TorchSharp" })
            {
                // Own bin/obj (--artifacts-path): the unique version rewrites restore's assets file, which must not touch
                // the repository's obj folders while other test assemblies build there (CleanBuildTests).
                (int exitCode, string text) = DotNet.Run(RepositoryRoot.Path, "pack", project, "-c", "Release", "-o", Folder, $"-p:Version={Version}",
                    "--artifacts-path", Path.Combine(Root, "artifacts"));
                output.AppendLine(text);
                if (exitCode != 0)
                {
                    throw new InvalidOperationException($"dotnet pack {project} failed:\n{text}");
                }
            }

            PackOutput = output.ToString();
        }

        public string Root { get; }

        public string Folder { get; }

        public string Version { get; }

        public string PackOutput { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
