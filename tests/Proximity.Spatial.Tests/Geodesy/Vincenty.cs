namespace Proximity.Spatial.Tests.Geodesy;

/// <summary>Vincenty's inverse formula on WGS84: the reference the projection is tested against.</summary>
internal static class Vincenty
{
    public static double Distance(double lat1, double lon1, double lat2, double lon2)
    {
        const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
        double d2r = Math.PI / 180;
        double L = (lon2 - lon1) * d2r;
        double U1 = Math.Atan((1 - f) * Math.Tan(lat1 * d2r));
        double U2 = Math.Atan((1 - f) * Math.Tan(lat2 * d2r));
        double sinU1 = Math.Sin(U1), cosU1 = Math.Cos(U1), sinU2 = Math.Sin(U2), cosU2 = Math.Cos(U2);
        double lambda = L, lambdaP;
        double sinSigma, cosSigma, sigma, cosSqAlpha, cos2SigmaM;
        int iter = 0;
        do
        {
            double sinLambda = Math.Sin(lambda), cosLambda = Math.Cos(lambda);
            sinSigma = Math.Sqrt(Math.Pow(cosU2 * sinLambda, 2) + Math.Pow(cosU1 * sinU2 - sinU1 * cosU2 * cosLambda, 2));
            if (sinSigma == 0) return 0;
            cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
            sigma = Math.Atan2(sinSigma, cosSigma);
            double sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma;
            cosSqAlpha = 1 - sinAlpha * sinAlpha;
            cos2SigmaM = cosSqAlpha != 0 ? cosSigma - 2 * sinU1 * sinU2 / cosSqAlpha : 0;
            double C = f / 16 * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha));
            lambdaP = lambda;
            lambda = L + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
        } while (Math.Abs(lambda - lambdaP) > 1e-13 && ++iter < 200);
        double uSq = cosSqAlpha * (a * a - b * b) / (b * b);
        double A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
        double B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
        double deltaSigma = B * sinSigma * (cos2SigmaM + B / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
            B / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
        return b * A * (sigma - deltaSigma);
    }
}
