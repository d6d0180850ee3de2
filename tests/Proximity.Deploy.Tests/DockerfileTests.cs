using System.Text.RegularExpressions;
using Proximity.Server.Commands;

namespace Proximity.Deploy.Tests;

/// <summary>The server image: Dockerfile and .dockerignore at the repository root.</summary>
public sealed partial class DockerfileTests
{
    private sealed record Instruction(string Keyword, string Arguments);

    private static readonly List<Instruction> Instructions = Parse(Repo.Read("Dockerfile"));

    /// <summary>Instructions with continuation lines joined and comments dropped.</summary>
    private static List<Instruction> Parse(string text)
    {
        var result = new List<Instruction>();
        string pending = "";
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (pending.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            string full = (pending + line).Trim();
            pending = "";
            int space = full.IndexOf(' ', StringComparison.Ordinal);
            result.Add(new Instruction(full[..space].ToUpperInvariant(), full[(space + 1)..].Trim()));
        }
        return result;
    }

    private static List<Instruction> FinalStage() =>
        Instructions.Skip(Instructions.FindLastIndex(i => i.Keyword == "FROM")).ToList();

    [Fact]
    public void It_builds_with_the_SDK_and_runs_on_the_ASP_NET_runtime()
    {
        var froms = Instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();
        Assert.True(froms.Count >= 2, "multi-stage");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", froms[0], StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", froms[^1], StringComparison.Ordinal);
        Assert.Contains("chiseled-extra", froms[^1], StringComparison.Ordinal); // small, and tzdata for the schedules
        Assert.Contains(FinalStage(), i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=build", StringComparison.Ordinal));
        Assert.Contains(Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish src/Proximity.Server/Proximity.Server.csproj -c Release", StringComparison.Ordinal));
    }

    [Fact]
    public void The_runtime_stage_runs_as_a_non_root_user()
    {
        var user = FinalStage().LastOrDefault(i => i.Keyword == "USER") ?? throw new Xunit.Sdk.XunitException("no USER in the final stage");
        string name = user.Arguments.Split(':')[0];
        Assert.NotEqual("root", name);
        Assert.NotEqual("0", name);
    }

    [Fact]
    public void It_checks_its_own_health_with_a_command_the_executable_has()
    {
        var check = FinalStage().Single(i => i.Keyword == "HEALTHCHECK");
        Match m = ExecForm().Match(check.Arguments);
        Assert.True(m.Success, "HEALTHCHECK CMD in exec form (the image has no shell)");
        var argv = m.Groups[1].Value.Split(',').Select(a => a.Trim().Trim('"')).ToList();
        var entry = FinalStage().Single(i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal("/app/proximity", argv[0]);
        Assert.Equal("[\"/app/proximity\"]", entry);
        Assert.Equal("health", argv[1]);
        Assert.Contains("health [--ready]", CommandLine.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public void It_exposes_the_ports_of_the_configuration_contract_and_sets_only_contract_variables()
    {
        var exposed = FinalStage().Where(i => i.Keyword == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Superset(new HashSet<string> { "5080", "11111", "30000" }, exposed);
        var variables = FinalStage().Where(i => i.Keyword == "ENV")
            .SelectMany(i => EnvName().Matches(i.Arguments).Select(m => m.Groups[1].Value)).ToList();
        Assert.Contains("Proximity__Http__Port", variables);
        Assert.Empty(variables.Select(ConfigurationContract.Problem).OfType<string>());
    }

    [Fact]
    public void The_build_context_leaves_out_build_output_tests_git_and_secrets()
    {
        var ignored = Repo.Read(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToHashSet();
        Assert.Superset(new HashSet<string> { "**/bin/", "**/obj/", ".git/", "tests/", "**/.env", "**/secrets/" }, ignored);
        // What the build copies is not ignored.
        foreach (var copy in Instructions.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal)))
            foreach (var source in copy.Arguments.Split(' ')[..^1])
            {
                Assert.DoesNotContain(source, ignored);
                Assert.True(File.Exists(Repo.PathOf(source)) || Directory.Exists(Repo.PathOf(source)), $"COPY {source}: not in the repository");
            }
    }

    [GeneratedRegex(@"^(?:--\S+\s+)*CMD\s+\[(.*)\]\s*$")]
    private static partial Regex ExecForm();

    [GeneratedRegex(@"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex EnvName();
}
