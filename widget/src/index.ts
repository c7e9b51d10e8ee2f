console.log("widget placeholder");
