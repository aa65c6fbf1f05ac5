const createSession = async (
scope: string,
vendorData?: string
) => {
const url = `${BASE_URL}/auth/v2/session`;
const token = await getClientToken();
if (!token) {
console.error('Error fetching client token');
} else {
const body = {
scope: scope,
vendor_data: vendorData
};
const requestOptions = {
method: 'POST',
headers: {
'Content-Type': 'application/json',
Authorization: `Bearer ${token.access_token}`,
},
body: JSON.stringify(body),
};
try {
const response = await fetch(url, requestOptions);
const data = await response.json();
if (response.status === 201 && data) {
return data;
} else {
console.error('Error creating session:', data.message);
throw new Error(data.message);
}
} catch (error) {
console.error('Network error:', error);
throw error;
}
}
};
