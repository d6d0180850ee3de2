using Proximity.Api.Auth;

namespace Proximity.Server.Commands;

/// <summary><c>proximity token --role ROLE --user NAME [--key KEY] [--hours N]</c>: a locally signed bearer token.</summary>
public static class TokenCommand
{
    public static readonly string Help = $"""
        proximity token --role ROLE --user NAME [--key KEY] [--hours 8]

          --role   one of {string.Join(", ", Roles.All)}
          --user   the user name the token carries (a probation officer's caseload is matched on it)
          --key    HMAC signing key (at least {DevTokens.MinKeyLength} characters); default: the environment variable
                   Proximity__Auth__SigningKey, else the development key (accepted only by a server
                   running with ASPNETCORE_ENVIRONMENT=Development)
          --hours  lifetime, default 8

        Prints the token; send it as 'Authorization: Bearer <token>', or paste it into the web page.
        """;

    public static int Run(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(Help); return 0; }
        string role = options.Required("role");
        string user = options.Required("user");
        int hours = options.Int("hours", 8);
        string? key = options.Get("key");
        if (string.IsNullOrEmpty(key)) key = Environment.GetEnvironmentVariable("Proximity__Auth__SigningKey");
        if (string.IsNullOrEmpty(key))
        {
            key = ProximityAuthOptions.DevelopmentSigningKey;
            Console.Error.WriteLine("proximity token: no key given; signed with the development key (accepted only in Development)");
        }
        try
        {
            Console.Out.WriteLine(DevTokens.Mint(role, user, key, TimeSpan.FromHours(hours)));
            return 0;
        }
        catch (ArgumentException e)
        {
            return CommandLine.Fail(e.Message);
        }
    }
}
