namespace Proximity.Deploy.Tests;

/// <summary>Files of the repository under test, found from the test binary's folder.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Proximity.sln"))) return dir.FullName;
        throw new InvalidOperationException("Proximity.sln not found above " + AppContext.BaseDirectory);
    }
}
