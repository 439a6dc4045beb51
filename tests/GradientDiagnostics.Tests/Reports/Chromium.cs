using System.Diagnostics;

namespace GradientDiagnostics.Tests.Reports;

/// <summary>
/// Headless Chromium for the report rendering tests. When no browser is on the PATH it installs Debian's
/// <c>chromium</c> package once (apt-get, as root: CI runs as root with the Debian mirror reachable); otherwise it
/// fails with the command to run.
/// </summary>
internal static class Chromium
{
    private static readonly Lazy<string> Executable = new(FindOrInstall, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The DOM after Chromium parsed and laid out the page.</summary>
    public static string DumpDom(string htmlPath) => Run(htmlPath, "--dump-dom");

    /// <summary>Writes a PNG screenshot of the page's first 1200×1600 pixels.</summary>
    public static void Screenshot(string htmlPath, string pngPath)
    {
        Run(htmlPath, $"--screenshot={pngPath}", "--window-size=1200,1600", "--hide-scrollbars");
        if (!File.Exists(pngPath))
        {
            throw new InvalidOperationException($"Chromium wrote no screenshot to {pngPath}.");
        }
    }

    private static string Run(string htmlPath, params string[] extra)
    {
        string profile = Directory.CreateTempSubdirectory("gd-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(Executable.Value)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", .. extra,
                new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri])
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("Chromium did not finish within 60 s.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"Chromium exited with {process.ExitCode}: {stderr.Result}");
            }

            return stdout;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static string FindOrInstall()
    {
        if (Find() is string found)
        {
            return found;
        }

        const string Help = "The report rendering tests need headless Chromium. Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu) and run the tests again.";
        if (!Environment.IsPrivilegedProcess || Find("apt-get") is not string aptGet)
        {
            throw new InvalidOperationException($"Chromium is not installed and this process cannot install it (it needs root and apt-get). {Help}");
        }

        Install(aptGet, "update");
        Install(aptGet, "install", "-y", "--no-install-recommends", "chromium");
        return Find() ?? throw new InvalidOperationException($"apt-get installed chromium but it is not on the PATH. {Help}");
    }

    private static void Install(string aptGet, params string[] arguments)
    {
        var start = new ProcessStartInfo(aptGet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`apt-get {string.Join(' ', arguments)}` failed ({process.ExitCode}): {stderr}{stdout.Result}");
        }
    }

    private static string? Find(params string[] names)
    {
        string[] candidates = names.Length > 0 ? names : ["chromium", "chromium-browser", "google-chrome"];
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/bin", "/sbin"]))
        {
            foreach (string name in candidates)
            {
                string path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }
}
