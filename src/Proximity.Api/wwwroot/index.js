// The start page only signs in and links to the two pages.
'use strict';
Proximity.boot(async () => {});
