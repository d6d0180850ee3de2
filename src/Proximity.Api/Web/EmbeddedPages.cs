using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Proximity.Api.Web;

/// <summary>Serves the pages and vendored libraries embedded in this assembly (wwwroot/**) at <c>/</c>.</summary>
public static class EmbeddedPages
{
    private const string Prefix = "wwwroot/";
    private static readonly Assembly Assembly = typeof(EmbeddedPages).Assembly;
    private static readonly FileExtensionContentTypeProvider Types = new();
    private static readonly Lazy<Dictionary<string, byte[]>> Files = new(Load);

    public static IReadOnlyCollection<string> Paths => Files.Value.Keys;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => Serve(http, "index.html")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/{**path}", (string path, HttpContext http) => Serve(http, path)).AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, string path)
    {
        if (path.StartsWith("api/", StringComparison.Ordinal) || !Files.Value.TryGetValue(path, out var bytes))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"'/{path}' does not exist.");
        if (!Types.TryGetContentType(path, out var type)) type = "application/octet-stream";
        if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal)) type += "; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        if (type.StartsWith("text/html", StringComparison.Ordinal))
        {
            // Scripts only from this host (the bearer token lives in the page); map tiles may come from the configured tile server.
            http.Response.Headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; " +
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
            http.Response.Headers["Referrer-Policy"] = "no-referrer";
        }
        return TypedResults.Bytes(bytes, type);
    }

    private static Dictionary<string, byte[]> Load()
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in Assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = Assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..].Replace('\\', '/')] = copy.ToArray();
        }
        return files;
    }
}
